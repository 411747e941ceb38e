"""Pure text helpers every stage shares: normalising and folding, stems, numbers, names, sentences.

Nothing here knows about articles, chunks, the store or questions; everything else may import it.
"""
