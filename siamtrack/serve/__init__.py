"""``siamtrack serve``: the tracking engine behind it (`engine`: one pump per stream, results,
snapshots) and the web application (`webapp`: page, HTTP API, event stream; pages in ``static/``).
"""
