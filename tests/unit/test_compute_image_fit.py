"""Nova's flavor-versus-image checks (``check_flavor_fits_image``), in Nova's order."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from onestack.common import errors
from onestack.compute.service.imagefit import GiB, check_flavor_fits_image


@dataclass(frozen=True)
class Image:
    min_ram: int | None = None
    min_disk: int | None = None
    size: int | None = None
    virtual_size: int | None = None


NANO = {"memory_mb": 64, "root_gb": 1}


def message(flavor: dict[str, int], image: Image) -> str:
    with pytest.raises(errors.BadRequest) as info:
        check_flavor_fits_image(flavor, image)
    return str(info.value.message)


def test_memory_below_min_ram_is_refused() -> None:
    assert message(NANO, Image(min_ram=96)) == "Flavor's memory is too small for requested image."
    check_flavor_fits_image(NANO, Image(min_ram=64))


def test_an_image_larger_than_the_flavor_disk_is_refused_with_both_sizes() -> None:
    text = message(NANO, Image(size=10, virtual_size=2 * GiB))
    assert text == (
        "Flavor's disk is too small for requested image. "
        f"Flavor disk is {GiB} bytes, image is {2 * GiB} bytes."
    )


def test_min_disk_above_the_flavor_disk_is_refused_with_nova_message() -> None:
    text = message(NANO, Image(min_disk=2, size=1024))
    assert text.startswith("Flavor's disk is smaller than the minimum size specified")
    assert text.endswith(f"minimum size is {2 * GiB} bytes.")


def test_a_zero_disk_flavor_skips_the_disk_checks_as_nova() -> None:
    image = Image(min_disk=20, size=50 * GiB)
    assert check_flavor_fits_image({"memory_mb": 512, "root_gb": 0}, image) is None
    # The same image on a flavor with a (too small) disk is refused.
    assert "disk" in message({"memory_mb": 512, "root_gb": 1}, image)


def test_memory_is_checked_before_disk() -> None:
    assert "memory" in message(NANO, Image(min_ram=128, min_disk=5))
