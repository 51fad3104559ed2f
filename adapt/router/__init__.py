"""The Adapt-LLM `<RET>` router: label training data, train a LoRA, calibrate its threshold.

    adaptrag adapt build-data --model smollm2-135m     # adapt/router/data.py
    adaptrag adapt train --model smollm2-135m          # adapt/router/train.py (+ calibrate.py)

The trained adapter and its model card (`router_card.json`) live in
adapt/router/adapters/<model>/; rag/decide.py finds and uses them.
"""
