"""The answering engine: question reading, lexical and dense retrieval, sentence scoring and the
evidence behind an answer. It works on an open store and an encoder, and knows nothing of files,
the command line or HTTP."""
