from django.apps import AppConfig


class LlmConfig(AppConfig):
    name = "backend.llm"
    label = "llm"
    verbose_name = "Model catalogue"
