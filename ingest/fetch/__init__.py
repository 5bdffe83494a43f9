"""Papers from where councils publish them: ModernGov (`fetch_moderngov`) and Legistar
(`fetch_legistar`) into a folder with a `manifest.csv` that ingest and sync read.

Safe to run every night: unchanged files are skipped (conditional requests where the server
supports them, the content hash otherwise), changed files are replaced atomically, requests
are paced and retried politely (`http.HttpClient`), and a killed run resumes from the
state file in the folder. Nothing here runs on import.
"""
from __future__ import annotations

from .core import FetchSummary, date_range
from .http import HttpClient, user_agent
from .legistar import fetch_legistar
from .moderngov import fetch_moderngov

__all__ = ["FetchSummary", "HttpClient", "fetch_moderngov", "fetch_legistar", "date_range", "user_agent"]
