"""Images as pixels: formats and their guards, decoding, thumbnails, and the alignment
behind carry-over. Pure functions on bytes and arrays (OpenCV, numpy), no I/O: services run
them off the event loop (services/image_work.py)."""
