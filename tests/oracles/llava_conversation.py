"""LLaVA's llava/conversation.py Conversation.get_prompt(), transcribed for the styles lnbench
offers (vicuna_v1 = SeparatorStyle.TWO, llava_llama_2 = LLAMA_2, plain = PLAIN). Shared by the
golden generators of tests/model and tests/tasks; messages are (role, text-or-None) pairs.
"""

SYSTEMS = {
    "vicuna_v1": "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
                 "detailed, and polite answers to the user's questions.",
    "llava_llama_2": "You are a helpful language and vision assistant. You are able to understand the visual content that "
                     "the user provides, and assist the user with a variety of tasks using natural language.",
    "plain": "",
}


def get_prompt(template, messages):
    """llava/conversation.py get_prompt, the three styles lnbench offers."""
    system = SYSTEMS[template]
    if template == "vicuna_v1":  # SeparatorStyle.TWO, sep=" ", sep2="</s>", roles USER/ASSISTANT
        seps = [" ", "</s>"]
        ret = system + seps[0]
        for i, (role, message) in enumerate(messages):
            if message:
                ret += role + ": " + message + seps[i % 2]
            else:
                ret += role + ":"
        return ret
    if template == "llava_llama_2":  # SeparatorStyle.LLAMA_2, sep="<s>", sep2="</s>"
        wrap_sys = lambda msg: f"<<SYS>>\n{msg}\n<</SYS>>\n\n" if len(msg) > 0 else msg  # noqa: E731
        wrap_inst = lambda msg: f"[INST] {msg} [/INST]"  # noqa: E731
        ret = ""
        for i, (role, message) in enumerate(messages):
            if message:
                if i == 0:
                    message = wrap_sys(system) + message
                if i % 2 == 0:
                    ret += "<s>" + wrap_inst(message)
                else:
                    ret += " " + message + " " + "</s>"
        return ret.lstrip("<s>")
    if template == "plain":  # SeparatorStyle.PLAIN, sep="\n"
        seps = ["\n", "\n"]
        ret = system
        for i, (role, message) in enumerate(messages):
            if message:
                ret += message + seps[i % 2]
        return ret
    raise ValueError(template)
