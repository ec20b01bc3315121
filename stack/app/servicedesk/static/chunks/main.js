// A stand-in for a hashed Next.js chunk, served under /_next/static/chunks/ with immutable caching.
window.__SERVICEDESK_BUILD__ = { chunk: "main", immutable: true };
