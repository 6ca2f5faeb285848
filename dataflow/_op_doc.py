"""The docstring builder shared by `ndarray_doc` and `symbol_doc` (MXNet's `_build_doc` of each)."""
import inspect
import re


def param_doc(arg_names, arg_types, arg_descs):
    """numpy-style 'Parameters' lines: `name : type` and the indented description."""
    lines = ["Parameters", "----------"]
    for name, kind, desc in zip(arg_names, arg_types, arg_descs):
        lines.append("%s : %s" % (name, kind))
        if desc:
            lines.append("    " + desc)
    return "\n".join(lines)


def build_doc(base, func_name, desc, arg_names, arg_types, arg_descs, extra_params, returns, array_word):
    """`desc`, the parameters plus `extra_params`, `returns`, then the examples of `base`'s subclass named
    `<func_name>Doc` (dedented), with 'NDArray-or-Symbol' read as `array_word`."""
    doc = "%s\n\n%s\n%s\n\nReturns\n-------\n%s" % (desc, param_doc(arg_names, arg_types, arg_descs),
                                                     extra_params, returns)
    examples = [inspect.cleandoc(cls.__doc__) for cls in base.__subclasses__()
                if cls.__name__ == func_name + "Doc" and cls.__doc__]
    if examples:
        doc += "\n\n" + "\n".join(examples)
    return re.sub("NDArray-or-Symbol", array_word, doc)
