"""Pure-PyTorch DINOv2 vision transformers whose parameter names and shapes are
exactly those of the published checkpoints, so the checkpoints load with
load_state_dict(strict=True) and nothing else (no transformers, no timm, no
xFormers):

  DinoV2       the layout of facebookresearch/dinov2
               (dinov2/models/vision_transformer.py with block_chunks=0, as its
               torch.hub entry points build it; dinov2/layers/): cls_token,
               pos_embed, [register_tokens], mask_token, patch_embed.proj,
               blocks.N.{norm1, attn.qkv, attn.proj, ls1.gamma, norm2,
               mlp.fc1, mlp.fc2, ls2.gamma}, norm
  HFDinov2     the layout of HuggingFace transformers' Dinov2Model
               (models/dinov2/modeling_dinov2.py), in which RAD-DINO is
               published: embeddings.{cls_token, mask_token,
               position_embeddings, patch_embeddings.projection},
               encoder.layer.N.{norm1, attention.attention.{query, key, value},
               attention.output.dense, layer_scale1.lambda1, norm2, mlp.fc1,
               mlp.fc2, layer_scale2.lambda1}, layernorm

Both compute the same network: pre-norm blocks (LayerNorm eps 1e-6, softmax
attention with scale head_dim^-0.5, layer scale, MLP with exact GELU), the CLS
token prepended to the patch tokens, learned position embeddings added to both
(registers, when present, inserted after the CLS token without one), a final
LayerNorm. The position embeddings are stored for the training grid (37 x 37
patches, 518 px); pos_for(grid) interpolates them to another grid the way each
upstream implementation does, once, at export time.

Embedder wraps either for ONNX: input [B, 3, 1, S, S] in [0, 1], the
checkpoint's mean/std applied inside the graph, the fixed position embeddings,
output the CLS token (or CLS and mean patch token) after the final norm,
L2-normalised.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

PATCH = 14
TRAIN_GRID = 37  # 518 px / 14: the grid the published position embeddings are for
EPS = 1e-6


def attend(q, k, v, heads):
    """Multi-head softmax attention over [B, N, C] queries, keys, values."""
    B, N, C = q.shape
    d = C // heads

    def split(t):
        return t.reshape(B, N, heads, d).transpose(1, 2)

    q, k, v = split(q), split(k), split(v)
    a = torch.softmax((q * d ** -0.5) @ k.transpose(-2, -1), dim=-1)
    return (a @ v).transpose(1, 2).reshape(B, N, C)


def interpolate_grid(pos, grid, mode):
    """pos: [1, 1 + M*M, D] (CLS first). Returns [1, 1 + grid*grid, D].
    mode "dinov2": facebookresearch/dinov2 (scale_factor (grid + 0.1) / M,
    bicubic, no antialias); "dinov2-reg": its register models (size = grid,
    bicubic, antialias); "hf": transformers' Dinov2Embeddings (size = grid,
    bicubic, align_corners False). No interpolation when grid == M, as
    upstream."""
    n = pos.shape[1] - 1
    M = int(math.sqrt(n))
    assert M * M == n, f"{n} position embeddings are not a square grid"
    if grid == M:
        return pos
    cls, patch = pos[:, :1], pos[:, 1:]
    D = pos.shape[-1]
    patch = patch.float().reshape(1, M, M, D).permute(0, 3, 1, 2)
    if mode == "dinov2":
        s = float(grid + 0.1) / M
        patch = F.interpolate(patch, scale_factor=(s, s), mode="bicubic", antialias=False)
    elif mode == "dinov2-reg":
        patch = F.interpolate(patch, size=(grid, grid), mode="bicubic", antialias=True)
    else:
        patch = F.interpolate(patch, size=(grid, grid), mode="bicubic", align_corners=False)
    assert patch.shape[-2:] == (grid, grid)
    patch = patch.permute(0, 2, 3, 1).reshape(1, grid * grid, D)
    return torch.cat((cls, patch.to(pos.dtype)), dim=1)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


# ---- facebookresearch/dinov2 layout ----

class PatchEmbed(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=PATCH, stride=PATCH)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)  # the rows of qkv are q, then k, then v
        return self.proj(attend(q, k, v, self.heads))


class LayerScale(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=EPS)
        self.attn = Attention(dim, heads)
        self.ls1 = LayerScale(dim)
        self.norm2 = nn.LayerNorm(dim, eps=EPS)
        self.mlp = Mlp(dim, 4 * dim)
        self.ls2 = LayerScale(dim)

    def forward(self, x):
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class DinoV2(nn.Module):
    """facebookresearch/dinov2 DinoVisionTransformer (MLP FFN, layer scale,
    block_chunks=0), patch 14, trained at 518 px."""

    def __init__(self, dim, depth, heads, registers=0):
        super().__init__()
        self.registers = registers
        self.interp = "dinov2-reg" if registers else "dinov2"
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + TRAIN_GRID * TRAIN_GRID, dim))
        if registers:
            self.register_tokens = nn.Parameter(torch.zeros(1, registers, dim))
        self.mask_token = nn.Parameter(torch.zeros(1, dim))
        self.patch_embed = PatchEmbed(dim)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=EPS)

    @property
    def prefix(self):
        return 1 + self.registers

    def pos_for(self, grid):
        return interpolate_grid(self.pos_embed, grid, self.interp)

    def features(self, x, pos):
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + pos
        if self.registers:
            x = torch.cat((x[:, :1], self.register_tokens.expand(x.shape[0], -1, -1), x[:, 1:]), dim=1)
        for b in self.blocks:
            x = b(x)
        return self.norm(x)


# ---- transformers Dinov2Model layout ----

class HFPatchEmbeddings(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.projection = nn.Conv2d(3, dim, kernel_size=PATCH, stride=PATCH)

    def forward(self, x):
        return self.projection(x).flatten(2).transpose(1, 2)


class HFEmbeddings(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.mask_token = nn.Parameter(torch.zeros(1, dim))
        self.patch_embeddings = HFPatchEmbeddings(dim)
        self.position_embeddings = nn.Parameter(torch.zeros(1, 1 + TRAIN_GRID * TRAIN_GRID, dim))


class HFSelfAttention(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)


class HFSelfOutput(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dense = nn.Linear(dim, dim)


class HFAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.attention = HFSelfAttention(dim)
        self.output = HFSelfOutput(dim)

    def forward(self, x):
        a = self.attention
        return self.output.dense(attend(a.query(x), a.key(x), a.value(x), self.heads))


class HFLayerScale(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.lambda1 = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * self.lambda1


class HFLayer(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=EPS)
        self.attention = HFAttention(dim, heads)
        self.layer_scale1 = HFLayerScale(dim)
        self.norm2 = nn.LayerNorm(dim, eps=EPS)
        self.mlp = Mlp(dim, 4 * dim)
        self.layer_scale2 = HFLayerScale(dim)

    def forward(self, x):
        x = x + self.layer_scale1(self.attention(self.norm1(x)))
        return x + self.layer_scale2(self.mlp(self.norm2(x)))


class HFEncoder(nn.Module):
    def __init__(self, dim, depth, heads):
        super().__init__()
        self.layer = nn.ModuleList([HFLayer(dim, heads) for _ in range(depth)])


class HFDinov2(nn.Module):
    """transformers Dinov2Model (use_mask_token, no SwiGLU, no registers)."""

    prefix = 1

    def __init__(self, dim, depth, heads):
        super().__init__()
        self.embeddings = HFEmbeddings(dim)
        self.encoder = HFEncoder(dim, depth, heads)
        self.layernorm = nn.LayerNorm(dim, eps=EPS)

    def pos_for(self, grid):
        return interpolate_grid(self.embeddings.position_embeddings, grid, "hf")

    def features(self, x, pos):
        e = self.embeddings
        x = e.patch_embeddings(x)
        x = torch.cat((e.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + pos
        for layer in self.encoder.layer:
            x = layer(x)
        return self.layernorm(x)


class Embedder(nn.Module):
    """The exported graph: pixels [B, 3, 1, S, S] in [0, 1] -> embedding
    [B, D] (pool "cls") or [B, 2D] ("cls+mean": the CLS token and the mean
    patch token, concatenated), L2-normalised."""

    def __init__(self, vit, size, pool, mean, std):
        super().__init__()
        assert size % PATCH == 0, f"input size {size} is not a multiple of {PATCH}"
        assert pool in ("cls", "cls+mean"), pool
        self.vit, self.pool = vit, pool
        with torch.no_grad():
            self.register_buffer("pos", vit.pos_for(size // PATCH).detach().clone())
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, pixels):
        x = (pixels[:, :, 0] - self.mean) / self.std
        t = self.vit.features(x, self.pos)
        out = t[:, 0]
        if self.pool == "cls+mean":
            out = torch.cat((out, t[:, self.vit.prefix:].mean(dim=1)), dim=-1)
        return F.normalize(out, dim=-1)
