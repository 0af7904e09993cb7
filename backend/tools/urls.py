from django.urls import path

from backend.tools import apis

urlpatterns = [
    path("tools/content-ideas/", apis.tool_api("content_ideas"), name="tool-content-ideas"),
    path("tools/keywords/", apis.tool_api("keyword_research"), name="tool-keywords"),
    path("tools/hashtags/", apis.tool_api("hashtags"), name="tool-hashtags"),
    path("tools/viral-score/", apis.tool_api("viral_score"), name="tool-viral-score"),
    path("history/", apis.HistoryListApi.as_view(), name="history"),
    path("history/<int:entry_id>/", apis.HistoryDetailApi.as_view(), name="history-detail"),
]
