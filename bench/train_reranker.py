"""Train the answer-sentence re-ranker: a cross-encoder made from the bundled MiniLM
(all-MiniLM-L6-v2), fine-tuned with low-rank adapters (LoRA) to tell the sentence that answers a
question from the other sentences around it.

    python -m bench train-reranker [--out FILE] [--squad N] [--epochs E] [--seed S]

Training data, all from the tuning halves (the held-out halves are never read):

- SQuAD v1.1 dev, even articles: the sentence holding the answer against the other sentences of
  its paragraph (``--squad`` questions, taken in a fixed order).
- RealTimeQA 2023, tune half: each answerable question against the sentences of the passages the
  product retrieves for it (its top 5, as ``qa ask`` scores them): those holding the answer
  string are positives, the others negatives. This needs the news bench index (``python -m bench
  news --chars 2000`` builds and caches it).

Each question is a list (one positive, up to ``NEGATIVES`` negatives), and the loss is the
softmax cross-entropy over the list. Only the adapters (rank ``RANK`` on every linear layer of
the six transformer blocks) and the scoring head are trained; the bundled weights stay as they
are, so the file written is small (``qa/engine/reranker.npz``, float16) and the model is the
bundled weights plus it. The run is deterministic for a given seed, torch version and CPU.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from pathlib import Path

from bench._common import split, squad

NEGATIVES = 7
OUT = Path(__file__).resolve().parents[1] / "qa" / "engine" / "reranker.npz"


def squad_lists(count: int, rng: random.Random) -> list[tuple[str, list[str], int]]:
    """(question, sentences, index of the answer sentence) from SQuAD's tuning half."""
    from corpus import split_sentences

    out = []
    for art in split(squad("1.1"), "dev"):
        for para in art["paragraphs"]:
            ctx = para["context"]
            spans = split_sentences(ctx)
            if len(spans) < 2:
                continue
            for qa in para["qas"]:
                start = qa["answers"][0]["answer_start"]
                gold = next((i for i, (s, e) in enumerate(spans) if s <= start < e), None)
                if gold is None:
                    continue
                others = [i for i in range(len(spans)) if i != gold]
                rng.shuffle(others)
                chosen = [gold] + others[:NEGATIVES]
                out.append((qa["question"].strip(), [ctx[spans[i][0]:spans[i][1]]
                                                     for i in chosen], 0))
    rng.shuffle(out)
    return out[:count]


def news_lists(part: str = "tune") -> list[tuple[str, list[str], int]]:
    """(question, sentences, index of a positive) from the product's own retrieval over the news
    bench index: one list per answer-bearing sentence, its negatives the best-scored others."""
    from bench._harness import norm
    from bench.news import setup
    from qa.assistant import RELATED
    from qa.engine import answering

    # passages as the shipped adapter was trained on: 200 word pieces, before passages filled
    # the window
    assistant, corpus, cache = setup(part, 2000, rerank=False, tokens=200)
    plans = [assistant.plan(q.text, today=q.date) for q in corpus.questions]
    qvecs = cache.embed([p.query for p in plans], "questions")
    out = []
    for q, plan, v in zip(corpus.questions, plans, qvecs):
        if not q.answers:
            continue
        cands = assistant.retriever.retrieve(plan.query, v, answering.PASSAGES + RELATED,
                                             allowed=plan.allowed,
                                             terms_for_rerank=plan.parsed.terms,
                                             recent_to=plan.recent_to)
        ranked = assistant.score(plan.parsed, v, cands).ranked
        gold = [norm(a) for a in q.answers]
        pos = [s.text for s in ranked if any(g in norm(s.text) for g in gold)]
        neg = [s.text for s in ranked if not any(g in norm(s.text) for g in gold)]
        for p in pos[:3]:
            out.append((plan.parsed.text, [p] + neg[:NEGATIVES], 0))
    assistant.store.close()
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench train-reranker")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--squad", type=int, default=5000, help="SQuAD questions to train on")
    ap.add_argument("--news-repeat", type=int, default=3,
                    help="times each news list is seen per epoch")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=5e-4)
    args = ap.parse_args(argv)

    import torch

    from embeddings.reranker_model import RANK, PairModel, save_adapter

    rng = random.Random(args.seed)
    torch.manual_seed(args.seed)
    lists = squad_lists(args.squad, rng)
    news = news_lists("tune") if args.news_repeat > 0 else []
    print(f"training lists: {len(lists)} SQuAD, {len(news)} news (x{args.news_repeat})",
          flush=True)
    data = lists + news * args.news_repeat
    model = PairModel.from_bundled(train_rank=RANK)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    print(f"trainable parameters: {sum(p.numel() for p in params):,}", flush=True)
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    per_step = 4  # lists a step
    steps = args.epochs * ((len(data) + per_step - 1) // per_step)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / (0.06 * steps)) * max(0.0, (steps - i) / steps))
    t0, step = time.perf_counter(), 0
    for _ in range(args.epochs):
        order = list(range(len(data)))
        rng.shuffle(order)
        for b in range(0, len(order), per_step):
            batch = [data[i] for i in order[b:b + per_step]]
            qs = [q for q, sents, _ in batch for _ in sents]
            ss = [s for _, sents, _ in batch for s in sents]
            scores = model.score(qs, ss)
            loss = torch.zeros(())
            at = 0
            for _, sents, gold in batch:
                part = scores[at:at + len(sents)]
                loss = loss + torch.nn.functional.cross_entropy(part[None], torch.tensor([gold]))
                at += len(sents)
            loss = loss / len(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0:
                print(f"  step {step}/{steps} loss {loss.item():.3f} "
                      f"{time.perf_counter() - t0:.0f} s", flush=True)
    save_adapter(model, args.out, meta={
        "squad": args.squad, "news_repeat": args.news_repeat, "epochs": args.epochs,
        "seed": args.seed, "lr": args.lr, "rank": RANK, "lists": len(data)})
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, sha256 {digest[:16]}) "
          f"in {time.perf_counter() - t0:.0f} s")
    print(json.dumps({"file": str(args.out), "sha256": digest}))
    return 0


__all__ = ["main", "news_lists", "squad_lists"]

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(__import__("sys").argv[1:]))
