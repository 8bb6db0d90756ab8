"""Media: running ffmpeg, reading a video's timeline (probe, container indexes), extracting
frames, composing sheets with Pillow.
"""
