"""The embedding model: sentence vectors by torch or ONNX Runtime, and the ONNX export."""
