"""``@record`` behaves as ``@dataclass(frozen=True)``: the same equality, hash, repr,
immutability and dataclass functions, for the same class written both ways."""

from __future__ import annotations

import dataclasses
import inspect
import threading
import typing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valuegap.records import record


@record
class Line:
    name: str
    cost: Decimal
    note: str | None = field(default=None, compare=False)
    secret: str = field(default="", repr=False)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlainLine:
    name: str
    cost: Decimal
    note: str | None = field(default=None, compare=False)
    secret: str = field(default="", repr=False)
    tags: tuple[str, ...] = ()


@record
class Child(Line):
    extra: int = 0


@record(kw_only=True)
class Named:
    first: str
    second: int = 2


@record
class Single:
    only: int


@record
class Empty:
    pass


@record
class Holder:
    items: list[object]


@record
class Undocumented:
    a: int
    b: list[str] = field(default_factory=list)
    c: str = "c"


@dataclass(frozen=True)
class PlainUndocumented:
    a: int
    b: list[str] = field(default_factory=list)
    c: str = "c"


@record
class Checked:
    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low above high")


def test_a_record_is_shown_compared_and_hashed_as_a_frozen_dataclass() -> None:
    a = Line("gpt", Decimal("1.50"), note="x", secret="s", tags=("a",))
    assert repr(a) == "Line(name='gpt', cost=Decimal('1.50'), note='x', tags=('a',))"
    # note does not compare; secret does
    assert a == Line("gpt", Decimal("1.5"), note="y", secret="s", tags=("a",))
    assert a != Line("gpt", Decimal("1.5"), note="x", secret="t", tags=("a",))
    assert hash(a) == hash(("gpt", Decimal("1.50"), "s", ("a",)))
    assert {a, Line("gpt", Decimal("1.5"), secret="s", tags=("a",))} == {a}
    assert a != PlainLine("gpt", Decimal("1.50"), note="x", secret="s", tags=("a",))
    assert (a == 3) is False


def test_a_subclass_compares_its_own_fields_and_never_equals_its_parent() -> None:
    child = Child("gpt", Decimal(1), extra=5)
    assert repr(child) == "Child(name='gpt', cost=Decimal('1'), note=None, tags=(), extra=5)"
    assert child != Line("gpt", Decimal(1))
    assert child != Child("gpt", Decimal(1), extra=6)
    assert hash(child) == hash(("gpt", Decimal(1), "", (), 5))


def test_one_field_no_field_and_keyword_only_fields() -> None:
    assert Single(1) == Single(1) and hash(Single(1)) == hash((1,))
    assert repr(Single(1)) == "Single(only=1)"
    assert Empty() == Empty() and hash(Empty()) == hash(()) and repr(Empty()) == "Empty()"
    assert Named(first="a") == Named(first="a", second=2)
    with pytest.raises(TypeError):
        Named("a")  # type: ignore[misc]


def test_a_record_cannot_be_changed() -> None:
    line = Line("gpt", Decimal(1))
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'name'"):
        line.name = "claude"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'cost'"):
        del line.cost  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'other'"):
        line.other = 1  # type: ignore[attr-defined]


def test_dataclass_functions_work_on_a_record() -> None:
    line = Line("gpt", Decimal(1), tags=("a",))
    assert dataclasses.is_dataclass(line)
    assert [f.name for f in dataclasses.fields(line)] == ["name", "cost", "note", "secret", "tags"]
    assert dataclasses.replace(line, cost=Decimal(2)) == Line("gpt", Decimal(2), tags=("a",))
    assert dataclasses.asdict(line)["tags"] == ("a",)


def test_the_constructor_takes_what_a_frozen_dataclass_takes() -> None:
    plain = str(inspect.signature(PlainUndocumented)).replace("PlainUndocumented", "Undocumented")
    assert str(inspect.signature(Undocumented)) == plain
    assert Undocumented.__doc__ == PlainUndocumented.__doc__.replace(
        "PlainUndocumented", "Undocumented"
    )
    first, second = Undocumented(1), Undocumented(1)
    assert first.b == [] and first.b is not second.b  # a new list each time
    assert Undocumented(1, ["x"], c="d") == Undocumented(a=1, b=["x"], c="d")
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'a'"):
        Undocumented()  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="low above high"):
        Checked(2, 1)


def test_a_field_without_default_after_one_with_is_refused_as_by_a_dataclass() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        @record
        class Wrong:
            a: int = 1
            b: int  # type: ignore[misc]


def test_a_class_made_from_a_record_may_have_attributes_of_its_own() -> None:
    class Annotated(Line):
        pass

    line = Annotated("gpt", Decimal(1))
    line.label = "x"  # type: ignore[attr-defined]
    assert line.label == "x"  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'cost'"):
        line.cost = Decimal(2)  # type: ignore[misc]


def test_a_record_that_holds_itself_is_shown_without_recursing() -> None:
    holder = Holder([])
    holder.items.append(holder)
    assert repr(holder) == "Holder(items=[...])"


def test_an_unhashable_field_makes_the_record_unhashable_as_a_dataclass() -> None:
    with pytest.raises(TypeError, match="unhashable"):
        hash(Holder([]))


texts = st.text(max_size=5)
costs = st.decimals(allow_nan=False, allow_infinity=False, places=2)


@given(
    st.tuples(texts, costs, st.none() | texts, texts),
    st.tuples(texts, costs, st.none() | texts, texts),
)
def test_equality_hash_and_repr_equal_a_frozen_dataclass(
    left: tuple[str, Decimal, str | None, str], right: tuple[str, Decimal, str | None, str]
) -> None:
    records, plain = (Line(*left), Line(*right)), (PlainLine(*left), PlainLine(*right))
    assert (records[0] == records[1]) == (plain[0] == plain[1])
    assert hash(records[0]) == hash(plain[0])
    assert repr(records[0]) == repr(plain[0]).replace("PlainLine(", "Line(", 1)


def test_every_record_without_a_docstring_is_named_by_its_signature_as_a_dataclass_is() -> None:
    import importlib
    import pkgutil

    import valuegap

    named = 0
    for module in pkgutil.walk_packages(valuegap.__path__, "valuegap."):
        if module.name.endswith("__main__"):  # it runs the command line
            continue
        for value in list(vars(importlib.import_module(module.name)).values()):
            if isinstance(value, type) and "__record_fields__" in value.__dict__:
                doc = value.__doc__ or ""
                if doc.startswith(f"{value.__name__}("):
                    signature = str(inspect.signature(value)).replace(" -> None", "")
                    assert doc == value.__name__ + signature
                    named += 1
    assert named > 10


def test_what_a_record_cannot_be_is_refused_when_it_is_defined() -> None:
    with pytest.raises(TypeError, match="cannot inherit from the dataclass"):

        @record
        class FromDataclass(PlainLine):
            extra: int = 0

    with pytest.raises(TypeError, match="takes no InitVar"):

        @record
        class WithInitVar:
            a: int
            b: dataclasses.InitVar[int] = 0

    with pytest.raises(TypeError, match="Cannot overwrite attribute __setattr__"):

        @record
        class OwnSetattr:
            a: int

            def __setattr__(self, name: str, value: object) -> None:
                object.__setattr__(self, name, value)


@record
class Selfish:
    self: int
    when: Decimal


def test_a_field_may_be_named_self_and_the_constructors_annotations_resolve() -> None:
    assert Selfish(self=1, when=Decimal(2)).self == 1
    assert typing.get_type_hints(Line.__init__) == typing.get_type_hints(PlainLine.__init__)
    assert inspect.signature(Line, eval_str=True).parameters["cost"].annotation is Decimal


def _fresh() -> type[typing.Any]:
    @record
    class Fresh:
        name: str
        cost: Decimal = Decimal(0)

    return Fresh


def test_the_constructor_is_compiled_when_first_used_and_then_is_the_classs_own() -> None:
    fresh = _fresh()
    assert not inspect.isfunction(vars(fresh)["__init__"])  # not compiled on definition
    assert str(inspect.signature(fresh)) == "(name: 'str', cost: 'Decimal' = Decimal('0')) -> None"
    assert inspect.isfunction(vars(fresh)["__init__"])  # reading it compiled it
    assert fresh.__init__.__qualname__.endswith("Fresh.__init__")

    made_first = _fresh()
    assert made_first("a").cost == Decimal(0)
    assert inspect.isfunction(vars(made_first)["__init__"])


def test_a_subclass_that_is_no_record_compiles_its_records_constructor_on_the_record() -> None:
    fresh = _fresh()

    class Labelled(fresh):  # type: ignore[misc,valid-type]
        pass

    assert Labelled("a", Decimal(2)) == Labelled(name="a", cost=Decimal(2))
    assert inspect.isfunction(vars(fresh)["__init__"]) and "__init__" not in vars(Labelled)
    assert fresh("a") != Labelled("a")  # another class


def test_threads_that_make_a_records_first_objects_at_once_all_get_them_whole() -> None:
    fresh = _fresh()
    start = threading.Barrier(8)

    def make(n: int) -> typing.Any:
        start.wait()
        return fresh(str(n), Decimal(n))

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(make, range(8)))
    assert [(m.name, m.cost) for m in made] == [(str(n), Decimal(n)) for n in range(8)]
