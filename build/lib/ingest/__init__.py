"""Reading sources and cutting them into sentences and chunks, with exact character offsets."""
