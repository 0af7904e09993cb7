from django.urls import path, re_path

from backend.chat import apis, ui_views, views

urlpatterns = [
    path("runs/<str:run_id>/approvals/", apis.ApprovalListApi.as_view(), name="run-approvals"),
    path(
        "runs/<str:run_id>/approvals/<str:approval_id>/",
        apis.ApprovalResolveApi.as_view(),
        name="run-approval",
    ),
    # AI SDK paths answer with or without the trailing slash: a POST is never redirected.
    re_path(r"^chat/?$", ui_views.ui_chat, name="ui-chat"),
    re_path(r"^chat/(?P<chat_id>[^/]+)/stream/?$", ui_views.ui_chat_resume, name="ui-chat-resume"),
    path("chat/sessions/", apis.SessionListCreateApi.as_view(), name="chat-sessions"),
    path("chat/sessions/<str:session_id>/", apis.SessionDetailApi.as_view(), name="chat-session"),
    path(
        "chat/sessions/<str:session_id>/messages/",
        apis.MessageCreateApi.as_view(),
        name="chat-messages",
    ),
    path(
        "chat/sessions/<str:session_id>/messages/<str:message_id>/regenerate/",
        apis.MessageRegenerateApi.as_view(),
        name="chat-message-regenerate",
    ),
    path(
        "chat/sessions/<str:session_id>/branch/",
        apis.SessionBranchApi.as_view(),
        name="chat-session-branch",
    ),
    re_path(
        r"^chat/sessions/(?P<session_id>[^/]+)/stream/?$",
        views.session_stream,
        name="chat-session-stream",
    ),
]
