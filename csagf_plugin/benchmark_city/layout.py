"""The city's plan: road lines, blocks and their zoning, a river and canals, as functions of ground coordinates.

The plan is small (a few thousand blocks for a 10 km scene) and is built once from the seed.  `CityLayout.sample`
answers "what is at these points" for any array of points, which is how both the daytime renderer (window by
window) and the night-light renderer (supersampled coarse grid) read it.

Scene coordinates are metres: x to the east from the scene's left edge, y to the south from its top edge.  The
street grid lives in a rotated, gently warped frame (u, v) centred on the scene, so streets are not ruler-straight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .noise import hash_u32, unit_hash, value_noise_points

# Functional class ids (csagf_plugin.core.model_card.FUNCTIONAL_CLASSES).
RESIDENTIAL, COMMERCIAL, INDUSTRIAL, GREEN, STREETS, WATER, NON_DEVELOPED = 1, 2, 3, 4, 5, 6, 7

# Daytime styles of a block; residential and commercial share SLABS and TOWERS on purpose (only NTL separates them).
SLABS, TOWERS, LOWRISE, MALL, SHEDS, PARK, FIELDS, BARE, CONSTRUCTION = 1, 2, 3, 4, 5, 6, 7, 8, 9

# What is at the surface of a point.
SURF_BLOCK, SURF_ROAD, SURF_WATER, SURF_BANK, SURF_BRIDGE = 0, 1, 2, 3, 4

# Road tiers.
ROAD_NONE, ROAD_LANE, ROAD_LOCAL, ROAD_ARTERIAL = 0, 1, 2, 3

# Night radiance (nW/cm2/sr) by block style for each zone, before a per-block log-normal factor.  Low-rise
# "urban villages" are night-active housing, as bright as commerce: there the daytime look decides.
_BLOCK_RADIANCE = {
    (RESIDENTIAL, SLABS): 7.0, (RESIDENTIAL, TOWERS): 9.0, (RESIDENTIAL, LOWRISE): 28.0,
    (COMMERCIAL, SLABS): 45.0, (COMMERCIAL, TOWERS): 70.0, (COMMERCIAL, MALL): 60.0,
    (INDUSTRIAL, SHEDS): 50.0, (GREEN, PARK): 1.0,
    (NON_DEVELOPED, FIELDS): 0.2, (NON_DEVELOPED, BARE): 0.4, (NON_DEVELOPED, CONSTRUCTION): 3.0,
}
_ROAD_RADIANCE = {ROAD_LANE: 5.0, ROAD_LOCAL: 9.0, ROAD_ARTERIAL: 22.0}
_BRIDGE_RADIANCE = 18.0
_BANK_RADIANCE = 1.0
_WATER_RADIANCE = 0.05

# The zoning quotas among urban blocks (the rest is residential).
_SHARE_COMMERCIAL, _SHARE_INDUSTRIAL, _SHARE_PARK = 0.22, 0.14, 0.13


@dataclass(frozen=True)
class RoadLines:
    """Street centre lines at constant u (or constant v), sorted."""

    pos: np.ndarray  # centre position of each line along the axis (m)
    half_width: np.ndarray  # half the paved width including sidewalks (m)
    arterial: np.ndarray  # True for arterials (they continue through fields and bridge the river)


@dataclass(frozen=True)
class Ground:
    """What lies at a set of points (flat arrays of equal length)."""

    label: np.ndarray  # uint8 functional class id
    surface: np.ndarray  # uint8 SURF_* code
    style: np.ndarray  # uint8 style of the block the point lies in
    block: np.ndarray  # int64 id of the (sub-)block: unique per block and lane side
    a: np.ndarray  # float32 position across the block's u extent from its inner edge (m)
    b: np.ndarray  # float32 position across the block's v extent from its inner edge (m)
    size_a: np.ndarray  # float32 inner u extent of the (sub-)block (m)
    size_b: np.ndarray  # float32 inner v extent of the (sub-)block (m)
    road_tier: np.ndarray  # uint8 ROAD_* of the road the point is on (ROAD_NONE off roads)
    road_across: np.ndarray  # float32 signed distance from the road's centre line (m)
    road_along: np.ndarray  # float32 coordinate along the road (m)
    road_half_width: np.ndarray  # float32 half width of that road (m)
    crossing: np.ndarray  # bool, True where two roads cross (no markings there)
    water_edge: np.ndarray  # float32 distance to the nearest water edge (m), positive on land
    u: np.ndarray  # float64 street-frame coordinate u (m)
    v: np.ndarray  # float64 street-frame coordinate v (m)


def _road_lines(seed: int, salt: int, reach: float, spacing: tuple[float, float]) -> RoadLines:
    """Street lines out to +-reach: local streets at irregular spacing, every 3rd to 5th an arterial.

    Lines are drawn outward from the centre, one random stream per direction, so a larger reach only adds lines
    at the ends: the city near the centre does not depend on how far the plan reaches.
    """
    first = -np.random.default_rng([seed, salt]).uniform(0.0, spacing[1])
    sides = []
    for direction in (1, -1):
        rng = np.random.default_rng([seed, salt, direction + 1])
        pos, half, art = [], [], []
        p = first if direction == 1 else first - rng.uniform(*spacing)
        until_arterial = int(rng.integers(0, 4))
        while abs(p) < reach + spacing[1]:
            is_arterial = until_arterial == 0
            if is_arterial:
                until_arterial = int(rng.integers(3, 6))
            until_arterial -= 1
            pos.append(p)
            art.append(is_arterial)
            half.append(rng.uniform(13.0, 17.0) if is_arterial else rng.uniform(5.5, 7.5))
            p += direction * rng.uniform(*spacing)
        sides.append((pos, half, art))
    (pp, hp, ap), (pn, hn, an) = sides
    return RoadLines(np.asarray(pn[::-1] + pp), np.asarray(hn[::-1] + hp), np.asarray(an[::-1] + ap, dtype=bool))


class CityLayout:
    """The seeded plan of a square benchmark city of `size_m` metres, defined for any ground coordinate."""

    def __init__(self, size_m: float, seed: int, reach_m: float | None = None) -> None:
        """Build the plan; `reach_m` is how far from the centre streets and blocks are laid out (default covers margins)."""
        self.size_m = float(size_m)
        self.seed = int(seed)
        rng = np.random.default_rng([self.seed, 61_0023])
        half = self.size_m / 2.0
        self.centre = (half, half)
        reach = reach_m if reach_m is not None else (half + max(600.0, 0.25 * self.size_m)) * 1.45
        self.angle = np.deg2rad(rng.uniform(-25.0, 25.0))
        self.warp_amp = rng.uniform(6.0, 14.0, size=2)
        self.warp_len = rng.uniform(1500.0, 3000.0, size=2)
        self.warp_phase = rng.uniform(0.0, 2 * np.pi, size=2)
        self.lines_u = _road_lines(self.seed, 1, reach, (95.0, 180.0))
        self.lines_v = _road_lines(self.seed, 2, reach, (95.0, 180.0))
        self._build_river(rng)
        self._build_canals(rng)
        self._build_blocks()

    # --- construction ------------------------------------------------------------------------------------
    def _build_river(self, rng: np.random.Generator) -> None:
        """A meandering river along u, wider in larger scenes (at least 60 m, so it stays dark at 40 m NTL)."""
        s = self.size_m
        self.river_v0 = rng.uniform(-0.22, 0.22) * s
        self.river_slope = rng.uniform(-0.2, 0.2)
        wavelength = float(np.clip(rng.uniform(0.8, 1.3) * s, 600.0, 4000.0))
        self.river_waves = [(wavelength * k, wavelength * k * rng.uniform(0.05, 0.09), rng.uniform(0, 2 * np.pi))
                            for k in (1.0, 0.37)]
        self.river_half_width = float(np.clip(0.07 * s, 30.0, 150.0) * rng.uniform(0.85, 1.15))
        self.bank_width = rng.uniform(12.0, 20.0)

    def _build_canals(self, rng: np.random.Generator) -> None:
        """Straight-ish canals along v: one, plus one per further 3 km of scene."""
        count = 1 + int(self.size_m // 3000)
        self.canal_u0 = rng.uniform(-0.38, 0.38, size=count) * self.size_m
        self.canal_amp = rng.uniform(4.0, 15.0, size=count)
        self.canal_len = rng.uniform(800.0, 2000.0, size=count)
        self.canal_phase = rng.uniform(0, 2 * np.pi, size=count)
        self.canal_half_width = rng.uniform(6.0, 9.0, size=count)

    def _build_blocks(self) -> None:
        """Urban footprint, zoning, styles, night radiance and lanes of every block."""
        lu, lv = self.lines_u, self.lines_v
        cu = (lu.pos[:-1] + lu.pos[1:]) / 2
        cv = (lv.pos[:-1] + lv.pos[1:]) / 2
        U, V = np.meshgrid(cu, cv, indexing="ij")
        # Blocks are keyed by their centre (to 0.1 m), not by index, so draws do not depend on the plan's reach.
        ii = np.round(U * 10).astype(np.int64)
        jj = np.round(V * 10).astype(np.int64)
        self.block_id = hash_u32(ii, jj, self.seed).astype(np.int64) * 2
        x, y = self.from_frame(U, V)
        h = self.size_m / 2.0
        # Square-ish city footprint (L4 norm), ragged by a per-block jitter; fields and bare land outside it.
        dist = (((x - h) / h) ** 4 + ((y - h) / h) ** 4) ** 0.25
        ragged = dist + 0.16 * (unit_hash(ii, jj, self.seed * 31 + 1) - 0.5)
        urban = ragged < 0.9
        if urban.sum() < 6:  # tiny scenes: keep a minimum of city
            urban = ragged <= np.sort(ragged, axis=None)[5]
        river_d = np.abs(V - self.river_centre(U))
        near_river = river_d < self.river_half_width + 60.0
        adj_arterial = lu.arterial[:-1][:, None] | lu.arterial[1:][:, None] | lv.arterial[:-1][None, :] \
            | lv.arterial[1:][None, :]
        zone = np.full(U.shape, NON_DEVELOPED, dtype=np.uint8)
        style = np.zeros(U.shape, dtype=np.uint8)
        free = urban.copy()
        n_urban = int(urban.sum())

        def take(score: np.ndarray, share: float, zone_id: int) -> np.ndarray:
            """Give the `share` of urban blocks with the highest score, among those still free, to a zone."""
            count = min(max(1, int(round(share * n_urban))), int(free.sum()))
            cand = np.where(free.ravel(), score.ravel(), -np.inf)
            chosen = np.argsort(-cand, kind="stable")[:count]
            mask = np.zeros(U.size, dtype=bool)
            mask[chosen] = True
            mask = mask.reshape(U.shape)
            zone[mask] = zone_id
            free[mask] = False
            return mask

        noise = lambda k: unit_hash(ii, jj, self.seed * 131 + k)  # noqa: E731
        take(-dist + 0.35 * adj_arterial + 0.45 * noise(2), _SHARE_COMMERCIAL, COMMERCIAL)
        industrial_field = value_noise_points(U, V, max(400.0, 0.6 * self.size_m), self.seed * 7 + 3)
        take(industrial_field + 0.4 * dist + 0.25 * noise(3), _SHARE_INDUSTRIAL, INDUSTRIAL)
        take(noise(4) + 0.5 * near_river, _SHARE_PARK, GREEN)
        zone[free] = RESIDENTIAL

        # Styles: cycled in hash order so even a small scene has each look (and each look-alike pair).
        order = noise(5)
        cycles = {RESIDENTIAL: (SLABS, TOWERS, SLABS, LOWRISE, SLABS), COMMERCIAL: (SLABS, TOWERS, MALL),
                  INDUSTRIAL: (SHEDS,), GREEN: (PARK,)}
        for zone_id, cycle in cycles.items():
            where = np.flatnonzero(zone.ravel() == zone_id)
            ranked = where[np.argsort(order.ravel()[where], kind="stable")]
            style.ravel()[ranked] = np.resize(np.asarray(cycle, dtype=np.uint8), ranked.size)
        # Outside the city the look is a per-block draw, so blocks added by a longer reach change nothing.
        rural = zone == NON_DEVELOPED
        style[rural] = np.select([order[rural] < 0.6, order[rural] < 0.8], [FIELDS, BARE], CONSTRUCTION)
        self.block_zone = zone
        self.block_style = style
        self.block_urban = urban

        radiance = np.zeros(U.shape, dtype=np.float32)
        for (zone_id, style_id), value in _BLOCK_RADIANCE.items():
            radiance[(zone == zone_id) & (style == style_id)] = value
        gauss = np.sqrt(-2 * np.log(noise(8) * 0.999 + 0.0005)) * np.cos(2 * np.pi * noise(9))  # Box-Muller
        jitter = np.exp(0.3 * gauss).astype(np.float32)
        self.block_radiance = radiance * jitter

        # Lanes: some urban blocks are split by a narrow street across their longer side.
        size_u = (lu.pos[1:] - lu.half_width[1:]) - (lu.pos[:-1] + lu.half_width[:-1])
        size_v = (lv.pos[1:] - lv.half_width[1:]) - (lv.pos[:-1] + lv.half_width[:-1])
        SU, SV = np.meshgrid(size_u, size_v, indexing="ij")
        has_lane = urban & (zone != GREEN) & (np.maximum(SU, SV) > 95.0) & (noise(6) < 0.4)
        self.lane_axis = np.where(has_lane, np.where(SU >= SV, 1, 2), 0).astype(np.uint8)
        self.lane_frac = (0.38 + 0.24 * noise(7)).astype(np.float32)
        self.lane_half_width = np.float32(3.5)

    # --- geometry ----------------------------------------------------------------------------------------
    def to_frame(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scene coordinates (m) to the rotated, warped street frame (u, v)."""
        dx = np.asarray(x, dtype=np.float64) - self.centre[0]
        dy = np.asarray(y, dtype=np.float64) - self.centre[1]
        c, s = np.cos(self.angle), np.sin(self.angle)
        r1 = c * dx + s * dy
        r2 = -s * dx + c * dy
        u = r1 + self.warp_amp[0] * np.sin(2 * np.pi * r2 / self.warp_len[0] + self.warp_phase[0])
        v = r2 + self.warp_amp[1] * np.sin(2 * np.pi * r1 / self.warp_len[1] + self.warp_phase[1])
        return u, v

    def from_frame(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Approximate inverse of to_frame (ignores the few-metre warp): used only to place blocks."""
        c, s = np.cos(self.angle), np.sin(self.angle)
        return self.centre[0] + c * u - s * v, self.centre[1] + s * u + c * v

    def river_centre(self, u: np.ndarray) -> np.ndarray:
        """v of the river's centre line at u."""
        out = self.river_v0 + self.river_slope * np.asarray(u, dtype=np.float64)
        for length, amp, phase in self.river_waves:
            out = out + amp * np.sin(2 * np.pi * u / length + phase)
        return out

    # --- queries -----------------------------------------------------------------------------------------
    def sample(self, x: np.ndarray, y: np.ndarray) -> Ground:
        """What lies at the points (x, y) of the scene (any shape; returned flat)."""
        u, v = self.to_frame(np.ravel(x), np.ravel(y))
        lu, lv = self.lines_u, self.lines_v
        nu, nv = self.block_zone.shape
        iu = np.clip(np.searchsorted(lu.pos, u) - 1, 0, nu - 1)
        iv = np.clip(np.searchsorted(lv.pos, v) - 1, 0, nv - 1)

        road_u, across_u, hw_u, tier_u = self._on_lines(u, iu, iv, lu, axis=0)
        road_v, across_v, hw_v, tier_v = self._on_lines(v, iv, iu, lv, axis=1)

        a = (u - (lu.pos[iu] + lu.half_width[iu])).astype(np.float32)
        b = (v - (lv.pos[iv] + lv.half_width[iv])).astype(np.float32)
        size_a = ((lu.pos[iu + 1] - lu.half_width[iu + 1]) - (lu.pos[iu] + lu.half_width[iu])).astype(np.float32)
        size_b = ((lv.pos[iv + 1] - lv.half_width[iv + 1]) - (lv.pos[iv] + lv.half_width[iv])).astype(np.float32)
        block = self.block_id[iu, iv].copy()

        # Lanes split a block in two sub-blocks with their own local coordinates.
        axis = self.lane_axis[iu, iv]
        lane_hw = self.lane_half_width
        road_lane = np.zeros(u.shape, dtype=bool)
        lane_across = np.zeros(u.shape, dtype=np.float32)
        for ax, coord, size in ((1, a, size_a), (2, b, size_b)):
            m = axis == ax
            if not m.any():
                continue
            cut = self.lane_frac[iu[m], iv[m]] * size[m]
            local = coord[m]
            lane_across[m] = local - cut
            road_lane[m] = np.abs(local - cut) < lane_hw
            second = local > cut
            idx = np.flatnonzero(m)
            sec = idx[second]
            coord[sec] = local[second] - cut[second] - lane_hw
            size[sec] = size[sec] - cut[second] - lane_hw
            first = idx[~second]
            size[first] = cut[~second] - lane_hw
            block[sec] += 1

        zone = self.block_zone[iu, iv]
        style = self.block_style[iu, iv]
        urban = self.block_urban[iu, iv]
        label = zone.copy()
        surface = np.full(u.shape, SURF_BLOCK, dtype=np.uint8)

        river_off = np.abs(v - self.river_centre(u))
        water_edge = (river_off - self.river_half_width).astype(np.float32)
        canal_edge = np.full(u.shape, np.inf, dtype=np.float32)
        for k in range(len(self.canal_u0)):
            centre = self.canal_u0[k] + self.canal_amp[k] * np.sin(2 * np.pi * v / self.canal_len[k]
                                                                   + self.canal_phase[k])
            canal_edge = np.minimum(canal_edge, (np.abs(u - centre) - self.canal_half_width[k]).astype(np.float32))
        bank = urban & (water_edge < self.bank_width) & (water_edge >= 0)
        label[bank] = GREEN
        surface[bank] = SURF_BANK

        on_road = road_u | road_v
        lane_only = road_lane & ~on_road
        road_tier = np.where(road_u, tier_u, ROAD_NONE).astype(np.uint8)
        road_tier = np.maximum(road_tier, np.where(road_v, tier_v, ROAD_NONE).astype(np.uint8))
        road_tier[lane_only] = ROAD_LANE
        # Across/along of the road a point is on (the u-line wins at crossings).
        road_across = np.where(road_u, across_u, np.where(road_v, across_v, lane_across)).astype(np.float32)
        lane_along = np.where(axis == 1, v, u)
        road_along = np.where(road_u, v, np.where(road_v, u, lane_along)).astype(np.float32)
        road_hw = np.where(road_u, hw_u, np.where(road_v, hw_v, lane_hw)).astype(np.float32)
        crossing = road_u & road_v
        any_road = on_road | road_lane
        label[any_road] = STREETS
        surface[any_road] = SURF_ROAD

        in_river = water_edge < 0
        in_canal = canal_edge < 0
        # Bridges only where a street crosses the water: u-line arterials over the river (which runs along u),
        # v-line streets over the canals (which run along v); streets parallel to the water end at its bank.
        bridge = (in_river & road_u & (tier_u == ROAD_ARTERIAL)) | (in_canal & road_v & ~in_river)
        water = (in_river | in_canal) & ~bridge
        label[water] = WATER
        surface[water] = SURF_WATER
        surface[bridge] = SURF_BRIDGE
        water_edge = np.minimum(water_edge, canal_edge)
        road_tier[water] = ROAD_NONE
        return Ground(label=label, surface=surface, style=style, block=block, a=a, b=b, size_a=size_a, size_b=size_b,
                      road_tier=road_tier, road_across=road_across, road_along=road_along, road_half_width=road_hw,
                      crossing=crossing, water_edge=water_edge, u=u, v=v)

    def _on_lines(self, coord: np.ndarray, i_cell: np.ndarray, j_cell: np.ndarray, lines: RoadLines,
                  axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Whether points lie on a street of `lines` (streets exist beside urban blocks; arterials everywhere)."""
        lo = coord - lines.pos[i_cell]
        hi = lines.pos[i_cell + 1] - coord
        k = np.where(hi < lo, i_cell + 1, i_cell)
        across = coord - lines.pos[k]
        hw = lines.half_width[k]
        n = self.block_urban.shape[axis]
        before = np.clip(k - 1, 0, n - 1)
        after = np.clip(k, 0, n - 1)
        if axis == 0:
            beside_urban = self.block_urban[before, j_cell] | self.block_urban[after, j_cell]
        else:
            beside_urban = self.block_urban[j_cell, before] | self.block_urban[j_cell, after]
        art = lines.arterial[k]
        on = (np.abs(across) < hw) & (art | beside_urban)
        tier = np.where(art, ROAD_ARTERIAL, ROAD_LOCAL).astype(np.uint8)
        return on, across.astype(np.float32), hw.astype(np.float32), tier

    def radiance(self, ground: Ground) -> np.ndarray:
        """Night-time radiance (nW/cm2/sr) emitted at sampled points, before the sensor's blur."""
        u_idx = np.clip(np.searchsorted(self.lines_u.pos, ground.u) - 1, 0, self.block_zone.shape[0] - 1)
        v_idx = np.clip(np.searchsorted(self.lines_v.pos, ground.v) - 1, 0, self.block_zone.shape[1] - 1)
        out = self.block_radiance[u_idx, v_idx].copy()
        out[ground.surface == SURF_BANK] = _BANK_RADIANCE
        for tier, value in _ROAD_RADIANCE.items():
            out[(ground.surface == SURF_ROAD) & (ground.road_tier == tier)] = value
        out[ground.surface == SURF_BRIDGE] = _BRIDGE_RADIANCE
        out[ground.surface == SURF_WATER] = _WATER_RADIANCE
        return out
