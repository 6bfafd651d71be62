"""Named entities: one ``<Labels>`` over one ``<Text>``; spans to BIO tags through an
offset-keeping tokenizer, a linear-chain CRF with exact numpy inference, predictions
written back as Label Studio spans, entity-level figures, CoNLL files for the simulator."""
