"""The Flourish service: the HTTPS front of the central database (no Qt).

Laptops talk to it, never to PostgreSQL. ``flourish server serve`` runs :func:`app.create_app`
on uvicorn. The service signs teachers in with their password (argon2 hashes in
``teacher_accounts``) and hands each laptop a revocable device token; every request then
runs in one transaction switched to the teacher role (``SET LOCAL ROLE flourish_teacher``
plus the transaction-local ``flourish.teacher_id`` that ``current_teacher_id()`` reads), so
row level security, column grants and triggers bind the service exactly as they bound a
teacher's own login.
"""
