"""Pure creator-tool logic shared by the agent's tools and the REST endpoints.

Formulas, parsing and scoring only: no I/O beyond reading a CSV the caller names, no
Django, no network. Each module documents its formula in its docstring.
"""

from agents.analytics.csv_import import (
    CsvFormatError,
    DefaultedValue,
    ImportedChannel,
    RejectedRow,
    UploadsImport,
    derive_channel_id,
    load_uploads_csv,
    parse_uploads_csv,
    parse_uploads_csv_text,
)
from agents.analytics.durations import format_duration, parse_duration
from agents.analytics.hashtags import HashtagStat, extract_hashtags, hashtag_stats
from agents.analytics.keywords import KeywordMetrics, RelatedTerm, keyword_metrics, related_terms
from agents.analytics.outliers import (
    OutlierGroup,
    OutlierReport,
    ScoredColumns,
    ScoredVideo,
    is_short,
    score_outliers,
)
from agents.analytics.pagination import Page, paginate
from agents.analytics.seo import SeoBreakdown, seo_breakdown, seo_score
from agents.analytics.streak import (
    ScoreComponents,
    SlotPerformance,
    StreakReport,
    WeekCount,
    upload_streak,
)
from agents.analytics.video import Video
from agents.analytics.viral import (
    Insight,
    ViralFeatures,
    ViralReport,
    combine_with_model,
    viral_features,
)

__all__ = [
    "CsvFormatError",
    "DefaultedValue",
    "HashtagStat",
    "ImportedChannel",
    "Insight",
    "KeywordMetrics",
    "OutlierGroup",
    "OutlierReport",
    "Page",
    "RejectedRow",
    "RelatedTerm",
    "ScoreComponents",
    "ScoredColumns",
    "ScoredVideo",
    "SeoBreakdown",
    "SlotPerformance",
    "StreakReport",
    "UploadsImport",
    "Video",
    "ViralFeatures",
    "ViralReport",
    "WeekCount",
    "combine_with_model",
    "derive_channel_id",
    "extract_hashtags",
    "format_duration",
    "hashtag_stats",
    "is_short",
    "keyword_metrics",
    "load_uploads_csv",
    "paginate",
    "parse_duration",
    "parse_uploads_csv",
    "parse_uploads_csv_text",
    "related_terms",
    "score_outliers",
    "seo_breakdown",
    "seo_score",
    "upload_streak",
    "viral_features",
]
