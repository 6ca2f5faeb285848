"""Constants of the contributed text datasets."""
EOS_TOKEN = "<eos>"
