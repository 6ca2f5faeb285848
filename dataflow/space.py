"""`mx.space`: MXNet's description of TVM operator schedule configuration spaces (for `tvmop`), as plain data:
option spaces of values, a config space of named option spaces with chosen entities, and their JSON form
(`{'e': [(key, 'ot', value)], 's': [(key, 'ot', [values])]}`). dataflow has no TVM ops; the classes only hold
and convert these descriptions."""
from collections import OrderedDict

import numpy as np


class OtherOptionSpace:
    """The possible values of one option."""

    def __init__(self, entities):
        self.entities = [OtherOptionEntity(e) for e in entities]

    @classmethod
    def from_tvm(cls, x):
        return cls([e.val for e in x.entities])

    def __len__(self):
        return len(self.entities)

    def __repr__(self):
        return "OtherOption(%s) len=%d" % (self.entities, len(self))


class OtherOptionEntity:
    """One chosen value of an option."""

    def __init__(self, val):
        self.val = val

    @classmethod
    def from_tvm(cls, x):
        return cls(x.val)

    def __repr__(self):
        return str(self.val)


def _only_other_options(knob_type):
    if knob_type != "ot":
        raise RuntimeError("Invalid config knob type: " + knob_type)


class ConfigSpace:
    """Named option spaces (`space_map`) and the entities chosen in them; its length is the number of
    combinations."""

    def __init__(self, space_map, _entity_map):
        self.space_map = space_map
        self._entity_map = _entity_map
        self._length = None

    @classmethod
    def from_tvm(cls, x):
        return cls(OrderedDict((k, OtherOptionSpace.from_tvm(v)) for k, v in x.space_map.items()),
                   OrderedDict((k, OtherOptionEntity.from_tvm(v)) for k, v in x._entity_map.items()))

    def __len__(self):
        if self._length is None:
            self._length = int(np.prod([len(x) for x in self.space_map.values()]))
        return self._length

    def __repr__(self):
        lines = "".join("  %2d %s: %s\n" % (i, name, space) for i, (name, space) in enumerate(self.space_map.items()))
        return "ConfigSpace (len=%d, space_map=\n%s)" % (len(self), lines)

    def to_json_dict(self):
        """`{'e': [(key, 'ot', chosen value)], 's': [(key, 'ot', [values])]}`."""
        entities = []
        for key, entity in self._entity_map.items():
            if not isinstance(entity, OtherOptionEntity):
                raise RuntimeError("Invalid entity instance: %s" % (entity,))
            entities.append((key, "ot", entity.val))
        return {"e": entities, "s": [(k, "ot", [e.val for e in v.entities]) for k, v in self.space_map.items()]}

    @classmethod
    def from_json_dict(cls, json_dict):
        """The ConfigSpace of `to_json_dict`'s form."""
        entity_map, space_map = OrderedDict(), OrderedDict()
        for key, knob_type, value in json_dict["e"]:
            _only_other_options(knob_type)
            entity_map[str(key)] = OtherOptionEntity(value)
        for key, knob_type, values in json_dict["s"]:
            _only_other_options(knob_type)
            space_map[str(key)] = OtherOptionSpace(values)
        return cls(space_map, entity_map)


class ConfigSpaces:
    """The config spaces of several ops, by name."""

    def __init__(self):
        self.spaces = {}

    def __setitem__(self, name, space):
        self.spaces[name] = space

    def __len__(self):
        return len(self.spaces)

    def __repr__(self):
        lines = "".join("  %2d %s:\n %s\n" % (i, k, v) for i, (k, v) in enumerate(self.spaces.items()))
        return "ConfigSpaces (len=%d, config_space=\n%s)" % (len(self), lines)

    def to_json_dict(self):
        """[(name, space's json dict)]."""
        return [(k, v.to_json_dict()) for k, v in self.spaces.items()]

    @classmethod
    def from_json_dict(cls, json_dict):
        result = cls()
        for key, value in json_dict:
            result.spaces[key] = ConfigSpace.from_json_dict(value)
        return result
