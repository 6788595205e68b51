"""The browser chat page for qa (Gradio). Start it with ``qa chat``; see :mod:`ui.app`."""
