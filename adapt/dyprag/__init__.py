"""DyPRAG: a parameter translator that turns passages into per-question LoRA weights (Tan et al. 2025).

translator.py (the model + its file format), teachers.py (stage 1: one LoRA per training passage),
train.py (stage 2: translator training), export.py (deltas -> PEFT adapter), cli.py (`adaptrag dyprag ...`).
"""
