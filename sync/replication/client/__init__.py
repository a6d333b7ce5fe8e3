"""The laptop's half of sync through the Flourish service (HTTPS, httpx).

:class:`~sync.replication.client.http.ServiceClient` speaks to ``flourish server serve``:
sign-in, device registration, push and the pull's pages. The merge itself runs in the
service (:mod:`sync.service.sync_api`); this half reads the queue and writes SQLite.
"""
