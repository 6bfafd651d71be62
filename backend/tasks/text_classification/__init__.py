"""Text classification: one ``<Choices>`` (single or multiple) over one ``<Text>`` or
``<HyperText>``; hashed n-gram TF-IDF into a logistic regression."""
