"""The browser chat page for qa (Gradio). Start it with ``qa chat``; see :mod:`ui.app`."""

import os

# Gradio reads these at import: no version check and no telemetry. (Hugging Face's offline mode is
# left to the person: it would also stop an index's model from being downloaded by name.)
for _name, _value in {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_DISABLE_TELEMETRY": "1"}.items():
    os.environ.setdefault(_name, _value)
