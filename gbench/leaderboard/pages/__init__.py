"""One publisher per kind of page, in the manner of asv's ``asv/publishing.py``: each is a
small class over the shared :class:`Publisher` base that writes every page of its kind."""

from gbench.leaderboard.pages.base import Publisher
from gbench.leaderboard.pages.dataset import DatasetPage, SyntheticDatasetPage
from gbench.leaderboard.pages.index import IndexPage
from gbench.leaderboard.pages.lists import DatasetList, MethodsPage, ModelList
from gbench.leaderboard.pages.model import ModelPage
from gbench.leaderboard.pages.suite import SuitePage
from gbench.leaderboard.pages.task import TaskPage

PUBLISHERS: tuple[type[Publisher], ...] = (
    IndexPage,
    ModelList,
    DatasetList,
    SuitePage,
    TaskPage,
    ModelPage,
    DatasetPage,
    MethodsPage,
)

__all__ = ["PUBLISHERS", "DatasetPage", "Publisher", "SyntheticDatasetPage"]
