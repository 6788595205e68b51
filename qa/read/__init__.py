"""Reading documents: finding files, their formats, the parser process, dates, and passages."""
