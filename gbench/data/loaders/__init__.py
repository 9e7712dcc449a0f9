"""Loaders turn verified raw files under a data root into a ``torch_geometric.data.Data``.

Each is named by a card's ``loader.entry`` and called as ``loader(root, **loader.args)``;
masks of shape [N, S] on the returned ``Data`` are the dataset's fixed splits.
"""
