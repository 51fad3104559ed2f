"""Streamlit components used by app.py (`streamlit run app.py`).

- render: Answer -> safe HTML (badge, conflict banner in a reserved slot, Markdown answer with [n] links,
  passage cards); colours from the active theme
- document_dialog, document_view: "Open document" under a passage card: the whole document's text in a
  dialog, scrolled to the passage with the cited span marked (the file re-read and checked:
  indexing/document_text.py)
- chat: one chat turn (streamed answer with stage status, then the evidence); streaming: the worker thread
- conversations, conversations_panel: conversations in SQLite, restored from `?c=ID`; the sidebar list
- documents_panel: the indexed documents, searchable, delete (confirmed) and re-index
- sidebar: settings -> Config (installed models as a select box); resources: pipelines/locks/stores shared
  by all sessions, the app's data folder
- uploads, indexing_job, upload_panel: safe uploads (unique stored names) indexed in the background
- examples: example questions from the index's own documents; answer_json: stored JSON -> Answer
- sqlite_file: the app's SQLite files (folder created, corrupt file set aside, concurrent writers)
- errors: exceptions -> readable message + fix (time to first token per answer: evals/app_latency.py)
"""
