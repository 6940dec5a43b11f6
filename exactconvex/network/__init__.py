"""The network layer: the exact model and its file formats."""

from .formats import (FormatError, from_torch, load, network_from_dict, network_to_dict, read_json,
                      read_npz, read_torch, save_json, save_npz, to_torch)
from .model import Layer, LocalAffine, Network, NetworkError, combine

__all__ = ["Network", "Layer", "LocalAffine", "NetworkError", "combine", "FormatError", "load", "read_json",
           "read_npz", "read_torch", "save_json", "save_npz", "from_torch", "to_torch", "network_from_dict",
           "network_to_dict"]
