"""ops/image.py has no CUDA kernels: its ops prepare single images in a data pipeline (DataLoader workers, a
transform's `hybrid_forward` on a CPU array), where MXNet users run them on the CPU too; on a GPU array they run
through the host (`host_fallback`), the CPU kernel on host copies."""
KERNELS = {}
WITHOUT = {name: "data-pipeline image op (ops/image.py): runs through the host on GPU arrays"
           for name in ("_image_to_tensor", "_image_normalize", "_backward_image_normalize", "_image_resize",
                        "_image_crop", "_backward_image_crop", "_image_flip_left_right", "_image_flip_top_bottom",
                        "_image_random_flip_left_right", "_image_random_flip_top_bottom", "_image_random_brightness",
                        "_image_random_contrast", "_image_random_saturation", "_image_random_hue",
                        "_image_random_color_jitter", "_image_adjust_lighting", "_image_random_lighting")}
