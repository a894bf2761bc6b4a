"""Fixtures for st.image.rgbToHsv and st.image.hsvToRgb (test/image-color.test.ts).

Keras 3.15's keras.ops.image.rgb_to_hsv / hsv_to_rgb follow TensorFlow's tf.image definitions
(TF 2.x): V = max(R, G, B), S = (V - min) / V (0 where V = 0), H = the hexcone hue in [0, 1)
taken from the largest channel (R before G before B on ties), 0 for greys; and the inverse.
Python's colorsys implements the same definition independently, so it is the reference here.
Inputs are float32-exact, with greys, black and tied channels among them.

Run: /usr/bin/python3 scripts/make_image_color_fixtures.py
"""
import colorsys
import json
import os
import random

from fixture_common import short64

random.seed(23)


def f32(v):
    import struct
    return struct.unpack('f', struct.pack('f', v))[0]


def rgb_pixels(n):
    pixels = [[f32(random.random()) for _ in range(3)] for _ in range(n)]
    # Greys, black, white and ties of the largest channel.
    pixels[0] = [0.0, 0.0, 0.0]
    pixels[1] = [0.5, 0.5, 0.5]
    pixels[2] = [1.0, 1.0, 1.0]
    pixels[3] = [0.75, 0.75, 0.25]  # R = G largest: R wins
    pixels[4] = [0.25, 0.75, 0.75]  # G = B largest: G wins
    pixels[5] = [0.75, 0.25, 0.75]  # R = B largest: R wins
    pixels[6] = [0.25, 0.5, 0.875]
    return pixels


def case(name, op, shape, pixels, convert):
    out = [convert(*p) for p in pixels]
    return {
        'name': name,
        'op': op,
        'shape': shape,
        'input': [v for p in pixels for v in p],
        'output': [short64(v) for p in out for v in p],
    }


def main():
    cases = []
    rgb = rgb_pixels(2 * 4 * 5)
    cases.append(case('rgb_to_hsv', 'rgbToHsv', [2, 4, 5, 3], rgb, colorsys.rgb_to_hsv))
    hsv = [[f32(random.random()) for _ in range(3)] for _ in range(3 * 6)]
    hsv[0] = [0.0, 0.0, 0.3125]
    hsv[1] = [0.5, 1.0, 1.0]
    cases.append(case('hsv_to_rgb', 'hsvToRgb', [3, 6, 3], hsv, colorsys.hsv_to_rgb))
    path = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'image-color.json')
    with open(path, 'w') as f:
        json.dump({'source': 'scripts/make_image_color_fixtures.py (Python colorsys, TF/Keras 3.15 definition)', 'cases': cases}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
