"""The browser chat page for qa (Gradio). Start it with ``qa chat``; see :mod:`ui.app`."""

import os

# Gradio reads these at import: no version check, no telemetry, no look-ups on the network.
for _name, _value in {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}.items():
    os.environ.setdefault(_name, _value)
