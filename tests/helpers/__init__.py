"""Helpers shared by the test modules (test modules never import each other).

``cli`` runs the command line in-process; ``chromium`` drives headless Chromium;
``mappage`` parses a map page; ``*_data`` build the small hand-made layers and
tables several test modules use.
"""
