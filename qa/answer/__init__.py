"""Answers: the kind of fact a question asks for, the quotes that answer it, their confidence and dates."""
