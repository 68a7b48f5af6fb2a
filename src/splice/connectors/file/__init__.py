"""Files in a folder: the ``file`` source (an inbox) and the ``file`` sink (an outbox).

``source.py`` claims each file by renaming it into ``.processing/`` and settles it into
``done/`` or ``failed/``; ``sink.py`` writes each message atomically or appends it to a file.
"""
