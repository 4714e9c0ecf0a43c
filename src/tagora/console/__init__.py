"""Server-rendered console: pages, templates, static assets, locales."""
