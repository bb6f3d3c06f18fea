"""LLaVA's llava/conversation.py Conversation.get_prompt(), transcribed for the styles lnbench
offers (vicuna_v1 = SeparatorStyle.TWO, llava_llama_2 = LLAMA_2, plain = PLAIN, vicuna_v0 =
SINGLE with conv_vicuna_v0's built-in messages, as in the LayerNorm authors' sibling code base
UCSC-VLAA/Sight-Beyond-Text llava/conversation.py L44-52 and L224-253). Shared by the golden
generators of tests/model and tests/tasks; messages are (role, text-or-None) pairs.
"""

SYSTEMS = {
    "vicuna_v1": "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
                 "detailed, and polite answers to the user's questions.",
    "llava_llama_2": "You are a helpful language and vision assistant. You are able to understand the visual content that "
                     "the user provides, and assist the user with a variety of tasks using natural language.",
    "plain": "",
    "vicuna_v0": "A chat between a curious human and an artificial intelligence assistant. "
                 "The assistant gives helpful, detailed, and polite answers to the human's questions.",
}

# conv_vicuna_v0.messages: the exchange every v0 prompt starts with.
VICUNA_V0_MESSAGES = (
    ("Human", "What are the key differences between renewable and non-renewable energy sources?"),
    ("Assistant",
     "Renewable energy sources are those that can be replenished naturally in a relatively short amount of time, "
     "such as solar, wind, hydro, geothermal, and biomass. "
     "Non-renewable energy sources, on the other hand, are finite and will eventually be depleted, "
     "such as coal, oil, and natural gas. "
     "Here are some key differences between renewable and non-renewable energy sources:\n"
     "1. Availability: Renewable energy sources are virtually inexhaustible, while non-renewable "
     "energy sources are finite and will eventually run out.\n"
     "2. Environmental impact: Renewable energy sources have a much lower environmental impact "
     "than non-renewable sources, which can lead to air and water pollution, greenhouse gas emissions, "
     "and other negative effects.\n"
     "3. Cost: Renewable energy sources can be more expensive to initially set up, but they typically "
     "have lower operational costs than non-renewable sources.\n"
     "4. Reliability: Renewable energy sources are often more reliable and can be used in more remote "
     "locations than non-renewable sources.\n"
     "5. Flexibility: Renewable energy sources are often more flexible and can be adapted to different "
     "situations and needs, while non-renewable sources are more rigid and inflexible.\n"
     "6. Sustainability: Renewable energy sources are more sustainable over the long term, while "
     "non-renewable sources are not, and their depletion can lead to economic and social instability.\n")
)


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
    if template == "vicuna_v0":  # SeparatorStyle.SINGLE, sep="###", roles Human/Assistant
        sep = "###"
        ret = system + sep
        for role, message in list(VICUNA_V0_MESSAGES) + list(messages):
            if message:
                ret += role + ": " + message + sep
            else:
                ret += role + ":"
        return ret
    if template == "plain":  # SeparatorStyle.PLAIN, sep="\n"
        seps = ["\n", "\n"]
        ret = system
        for i, (role, message) in enumerate(messages):
            if message:
                ret += message + seps[i % 2]
        return ret
    raise ValueError(template)
