"""The default encoder: a small ViT over 4-D tubelets (PyTorch 1.13).

pixels [B, C, T, H, W] (Go preprocessing: luma, time mapping, resize,
intensity normalisation)
  -> Conv3d patch embedding, kernel = stride = tubelet (tt, p, p)
  -> + learned position embeddings, factorised over (t, h, w):
       pos[t, h, w] = Pt[t] + Ph[h] + Pw[w]  (Ph, Pw linearly interpolated
       for the smaller local crops of SimDINO training)
  -> depth x pre-norm transformer blocks (nn.MultiheadAttention, MLP x4)
  -> LayerNorm, mean over tokens
  -> exported (Whitened): whitening projection, width -> width, fitted on
     the training set -> L2 normalisation
     training (SimDINO): projection head (Linear, GELU, Linear) -> L2
embedding [B, width]

A 2D image comes in with its frame repeated along T (time mapping
"repeat"), a volume with T slices resampled along the acquisition axis, a
video with T frames sampled evenly: all become one token sequence.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim, heads, mlp=4.0):
        super().__init__()
        self.n1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.n2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, int(dim * mlp)), nn.GELU(), nn.Linear(int(dim * mlp), dim))

    def forward(self, x):
        h = self.n1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.n2(x))


class ViT4D(nn.Module):
    def __init__(self, channels=1, frames=8, size=96, tubelet=(4, 16, 16), width=192, depth=6, heads=3, dim=256):
        super().__init__()
        self.channels, self.frames, self.size, self.tubelet = channels, frames, size, tubelet
        self.width, self.dim = width, dim
        self.grid = (frames // tubelet[0], size // tubelet[1], size // tubelet[2])
        self.patch = nn.Conv3d(channels, width, kernel_size=tubelet, stride=tubelet)
        self.pos_t = nn.Parameter(torch.randn(self.grid[0], width) * 0.02)
        self.pos_h = nn.Parameter(torch.randn(self.grid[1], width) * 0.02)
        self.pos_w = nn.Parameter(torch.randn(self.grid[2], width) * 0.02)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(width)
        self.head = nn.Sequential(nn.Linear(width, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def pos(self, gt, gh, gw):
        """Position embeddings [gt*gh*gw, width] for a token grid."""
        pt, ph, pw = self.pos_t, self.pos_h, self.pos_w
        if gt != pt.shape[0]:
            pt = F.interpolate(pt.t()[None], size=gt, mode="linear", align_corners=False)[0].t()
        if gh != ph.shape[0]:
            ph = F.interpolate(ph.t()[None], size=gh, mode="linear", align_corners=False)[0].t()
        if gw != pw.shape[0]:
            pw = F.interpolate(pw.t()[None], size=gw, mode="linear", align_corners=False)[0].t()
        return (pt[:, None, None] + ph[None, :, None] + pw[None, None, :]).reshape(gt * gh * gw, -1)

    def tokens(self, x):
        """Patch tokens with positions, [B, N, width], and the grid."""
        x = self.patch(x)  # [B, D, gt, gh, gw]
        g = tuple(x.shape[2:])
        x = x.flatten(2).transpose(1, 2)
        return x + self.pos(*g), g

    def encode(self, tok):
        for b in self.blocks:
            tok = b(tok)
        return self.norm(tok)

    def features(self, x):
        """Mean-pooled backbone features [B, width]."""
        tok, _ = self.tokens(x)
        return self.encode(tok).mean(dim=1)

    def forward(self, x):
        return F.normalize(self.head(self.features(x)), dim=-1)


def pooled(vit, x, mirror=False):
    """The backbone's mean-pooled features; with mirror, averaged with those
    of the left-right mirrored input, so the embedding does not change when
    an image is mirrored (the exported model does this in its graph)."""
    f = vit.features(x)
    if mirror:
        f = 0.5 * (f + vit.features(torch.flip(x, dims=[-1])))
    return f


class Pooled(nn.Module):
    """Export wrapper without the whitening (the "before whitening" row,
    or --whiten-shrink < 0): the L2-normalised mean-pooled backbone
    features."""

    def __init__(self, vit, mirror=False):
        super().__init__()
        self.vit = vit
        self.mirror = mirror

    def forward(self, x):
        return F.normalize(pooled(self.vit, x, self.mirror), dim=-1)


class Whitened(nn.Module):
    """The exported encoder: the mean-pooled backbone features projected by
    a whitening fitted on the training set (a Linear layer, width -> width)
    and L2-normalised. The embedding head of ViT4D is SimDINO's projection
    head: it shapes the training loss and, as in DINO, is not exported."""

    def __init__(self, vit, weight, bias, mirror=False):
        super().__init__()
        self.vit = vit
        self.mirror = mirror
        self.proj = nn.Linear(vit.width, weight.shape[0])
        with torch.no_grad():
            self.proj.weight.copy_(weight)
            self.proj.bias.copy_(bias)

    def forward(self, x):
        return F.normalize(self.proj(pooled(self.vit, x, self.mirror)), dim=-1)


class MAEDecoder(nn.Module):
    """Light MAE decoder: visible tokens + mask tokens at their positions ->
    the pixel-normalised tubelet of every token."""

    def __init__(self, vit, width=128, depth=2, heads=4):
        super().__init__()
        n = vit.grid[0] * vit.grid[1] * vit.grid[2]
        self.embed = nn.Linear(vit.width, width)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, n, width) * 0.02)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(width)
        tt, p, q = vit.tubelet
        self.out = nn.Linear(width, vit.channels * tt * p * q)

    def forward(self, vis, keep, n):
        B = vis.shape[0]
        x = self.mask_token.expand(B, n, -1).clone()
        x.scatter_(1, keep[..., None].expand(-1, -1, x.shape[-1]), self.embed(vis))
        x = x + self.pos
        for b in self.blocks:
            x = b(x)
        return self.out(self.norm(x))


def patchify(x, tubelet):
    """[B, C, T, H, W] -> [B, N, C*tt*p*q] in the token order of ViT4D."""
    B, C, T, H, W = x.shape
    tt, p, q = tubelet
    x = x.reshape(B, C, T // tt, tt, H // p, p, W // q, q)
    x = x.permute(0, 2, 4, 6, 1, 3, 5, 7)
    return x.reshape(B, (T // tt) * (H // p) * (W // q), C * tt * p * q)
