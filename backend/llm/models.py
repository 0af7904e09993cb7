from django.db import models


class CatalogueModel(models.Model):
    """A model from OpenRouter's models list, cached with its prices (USD per token, per image)."""

    model_id = models.CharField(max_length=200, unique=True)
    name = models.CharField(max_length=300, blank=True)
    context_length = models.PositiveIntegerField(null=True)
    input_per_token = models.DecimalField(max_digits=20, decimal_places=12)
    output_per_token = models.DecimalField(max_digits=20, decimal_places=12)
    # USD per input image on top of its tokens (``pricing.image``; 0 when not listed).
    input_per_image = models.DecimalField(max_digits=20, decimal_places=12, default=0)
    fetched_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.model_id
