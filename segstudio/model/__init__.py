"""Model layer (torch, no Qt): SegFormer, checkpoint loading, losses, data, training, inference."""
