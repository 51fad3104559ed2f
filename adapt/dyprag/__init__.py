"""DyPRAG training: a parameter translator that turns passages into per-question LoRA weights (Tan et al. 2025).

teachers.py (stage 1: one LoRA per training passage), train.py (stage 2: translator training), bench.py
(closed / standard / inject / combine on held-out questions, and the scale calibration), cli.py
(`adaptrag dyprag ...`). What the answer path needs at run time lives in rag/: the translator model and its
file (rag/translator.py), the injector (rag/inject.py), the hook (rag/generators/lora_hook.py) and the
PEFT export for vLLM (rag/generators/peft_export.py).
"""
