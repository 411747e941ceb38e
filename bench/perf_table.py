"""The text table `perf.py` prints: newsqa, llama-index's quickstart, their ratio, the target."""

from __future__ import annotations

from typing import Any


def _f(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = (
            f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"
        )
    else:
        text = f"{value:,}"
    return text + unit


def _ratio(ours: Any, theirs: Any) -> str:
    return f"{ours / theirs:.2f}" if ours and theirs else "-"


def render(report: dict[str, Any]) -> str:
    r, m = report["results"], report["machine"]
    rows: list[tuple[str, str, str, str, str]] = []
    notes: list[str] = []

    def row(label: str, ours: Any, theirs: Any = None, unit: str = "", target: str = "") -> None:
        rows.append((label, _f(ours, unit), _f(theirs, unit), _ratio(ours, theirs), target))

    li = r.get("llama", {})
    model, build = r.get("model"), r.get("build")
    if model:
        row("model ceiling, passages/s (batch 32, 128 word pieces)", model["passages_per_s"])
        row("model ceiling, word pieces/s", model["word_pieces_per_s"])
        if model.get("real_chunks"):
            row("model on a sample of the real chunks, passages/s", model["real_chunks"]["passages_per_s"])
    if build:
        lb = li.get("build", {})
        row("full build: articles", build["articles"], lb.get("articles"))
        row("full build: chunks", build["chunks"], lb.get("chunks"))
        row("full build: seconds", build["seconds"], lb.get("seconds"), " s")
        row(
            "full build: articles/s",
            build["articles"] / build["seconds"],
            lb["articles"] / lb["seconds"] if lb else None,
        )
        row(
            "full build: chunks/s",
            build["chunks"] / build["seconds"],
            lb["chunks"] / lb["seconds"] if lb else None,
        )
        row("full build: peak RSS", build["peak_rss_mb"], lb.get("peak_rss_mb"), " MB")
        if model:
            wps = build["word_pieces"] / build["seconds"]
            row(
                "build ÷ model, chunks/s ÷ passages/s (raw)",
                build["chunks"] / build["seconds"] / model["passages_per_s"],
            )
            row(
                "build ÷ model, tokens-weighted (128-piece ceiling)",
                wps / model["word_pieces_per_s"],
                target="≥ 0.9",
            )
            if model.get("real_chunks"):
                row(
                    "build ÷ model, tokens-weighted (real-chunk ceiling)",
                    wps / model["real_chunks"]["word_pieces_per_s"],
                )
    if r.get("incremental"):
        inc = r["incremental"]
        row("reindex, one article changed", inc["one_changed_s"], unit=" s", target="≤ 2 s")
        row("reindex, nothing changed", inc["nothing_changed_s"], unit=" s", target="≤ 1 s")
        row("first ask after a reindex (new generation)", inc["first_ask_after_s"], unit=" s")
    for key, name in (("queries_seed", "seed"), ("queries_bbc", "BBC")):
        if r.get(key):
            q, lq = r[key], li.get(key, {}) if key == "queries_bbc" else {}
            n = q["questions"]
            row(
                f"warm query p50, {name} ({n} q)",
                q["p50_ms"],
                lq.get("p50_ms"),
                " ms",
                "≤ 40 ms" if name == "BBC" else "",
            )
            row(
                f"warm query p95, {name} ({n} q)",
                q["p95_ms"],
                lq.get("p95_ms"),
                " ms",
                "≤ 100 ms" if name == "BBC" else "",
            )
            stages = ", ".join(f"{k} {v:.1f}" for k, v in q["stage_p50_ms"].items() if k != "total")
            notes.append(f"stage medians, {name} (ms): {stages}")
            if q.get("hit_at_3") is not None:
                row(f"source article in top 3, {name}", q["hit_at_3"], lq.get("hit_at_3"))
            row(f"query process RSS after the questions, {name}", q["rss_mb"], lq.get("rss_mb"), " MB")
    if r.get("cold"):
        row(
            "cold start `newsqa ask`, BBC index",
            r["cold"]["seconds"],
            li.get("cold", {}).get("seconds"),
            " s",
            "≤ 2.5 s",
        )
        row("cold start `newsqa ask`, seed index", r["cold_seed"]["seconds"], unit=" s")
        phases = ", ".join(f"{k} {v:.2f}" for k, v in r["cold"]["phases_s"].items())
        notes.append(f"cold start, in-process phases (s): {phases}")
        imports = ", ".join(f"{k} {v:.2f}" for k, v in r["cold"]["imports_s"][:6])
        notes.append(f"cold start, heaviest imports (importtime, cumulative s): {imports}")
    if r.get("serve"):
        s = r["serve"]
        row("`newsqa serve` RSS idle (BBC)", s["idle_rss_mb"], unit=" MB", target="≤ 600 MB")
        row(
            f"`newsqa serve` peak RSS after {s['questions']} questions",
            s["after_peak_rss_mb"],
            unit=" MB",
            target="≤ 600 MB",
        )
        row(f"`newsqa serve` {s['questions']} questions through the Bot API", s["answered_s"], unit=" s")
    if r.get("remote"):
        rem = r["remote"]
        for c, run in rem["runs"].items():
            row(
                f"remote embedder, concurrency {c}: texts/s (50 ms per request of {rem['batch_size']})",
                run["texts_per_s"],
                target="c=4 ≥ 3× c=1" if c == "4" else "",
            )
            row(f"remote embedder, concurrency {c}: speed-up over 1", run["speed_up"])
        for b in rem.get("builds", []):
            row(
                f"full build through the remote double, concurrency {b['concurrency']}",
                b["seconds"],
                unit=" s",
            )
            row(f"  chunks/s (server waits alone: {b['server_wait_ideal_s']:.1f} s)", b["chunks_per_s"])
    out = [
        f"newsqa performance — {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB, Python {m['python']}, "
        f"{m['date']}, load average {m['load_avg'][0]:.1f} → {m.get('load_avg_end', [0])[0]:.1f}",
        "",
    ]
    widths = [max(len(x[i]) for x in rows + [_HEAD]) for i in range(5)]
    for line in [_HEAD] + rows:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 or i == 1 and len(c) > 20 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
    out += [""] + notes if notes else []
    if r.get("scale"):
        out += ["", _scale_table(r)]
    return "\n".join(out)


_HEAD = ("", "newsqa", "llama-index", "ratio", "target")


def _scale_table(r: dict[str, Any]) -> str:
    build, q1, model = r.get("build"), r.get("queries_bbc"), r.get("model")
    model_1x = None
    if build and model and model.get("real_chunks"):
        model_1x = build["word_pieces"] / model["real_chunks"]["word_pieces_per_s"]
    lines = [
        "scale  articles   chunks  build s (vectors reused)  build s (est. with model)  "
        "query p50  query p95  retrieve p95  build peak RSS  query RSS  serve RSS / peak after q  HNSW files"
    ]
    points = [(1, build, q1, r.get("serve"), None)] if build and q1 else []
    points += [
        (int(f), v["build"], v["queries"], v.get("serve"), v.get("hnsw_mb"))
        for f, v in sorted(r["scale"].items(), key=lambda x: int(x[0]))
    ]
    for factor, b, q, s, hnsw in points:
        reused = "-" if factor == 1 else f"{b['seconds']:.0f}"
        estimate = b["seconds"] if factor == 1 else (b["seconds"] + factor * model_1x if model_1x else None)
        retrieve = q.get("stage_p95_ms", {}).get("retrieve")
        served = f"{s['after_rss_mb']:.0f} / {s['after_peak_rss_mb']:.0f} MB" if s else "-"
        lines.append(
            f"{factor:>4}x  {b['articles']:>8,} {b['chunks']:>8,}  {reused:>24}  {_f(estimate):>25}  "
            f"{q['p50_ms']:>6.1f} ms  {q['p95_ms']:>6.1f} ms  {_f(retrieve, ' ms'):>12}  "
            f"{b['peak_rss_mb']:>11.0f} MB  {q['rss_mb']:>6.0f} MB  {served:>24}  {_f(hnsw, ' MB'):>10}"
        )
    return "\n".join(lines)
