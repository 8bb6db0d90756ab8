"""The pure core: requests, schedules, timelines, geometry, plans, sheet layouts, VTT and
events. No subprocess, no file: plain values in, plain values out.
"""
