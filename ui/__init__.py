"""Streamlit components used by app.py (`streamlit run app.py`).

- render: Answer -> escaped HTML (badge, conflict banner, answer with [n] links, passage cards)
- chat: one chat turn (streamed answer, then the evidence); streaming: the worker thread
- sidebar: settings -> Config; resources: pipelines/locks shared by all sessions
- uploads, indexing_job, upload_panel: safe uploads indexed in the background
- errors: exceptions -> readable message + fix (time to first token per answer: evals/app_latency.py)
"""
