/**
 * Prompt-injection heuristics: families of patterns, each with a weight. The score of a text is
 * 1 - Π(1 - weight) over the families that fire, so one strong signal or several weak ones reach
 * the threshold. Heuristics only: they catch the common phrasings, not a determined attacker.
 */

interface Family {
  name: string;
  weight: number;
  pattern: RegExp;
}

const families: Family[] = [
  {
    name: "ignore_instructions",
    weight: 0.7,
    pattern:
      /\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.\n]{0,40}\b(?:previous|prior|above|earlier|all|any|your|system|preceding)\b[^.\n]{0,30}\b(?:instructions?|prompts?|rules|directions|guidelines|directives|context|constraints)\b/i,
  },
  {
    name: "prompt_exfiltration",
    weight: 0.6,
    pattern:
      /\b(?:reveal|show|print|repeat|output|display|leak|dump|tell me|what (?:is|are|was))\b[^.\n]{0,40}\b(?:system prompt|system message|hidden (?:prompt|instructions)|initial (?:prompt|instructions)|your (?:instructions|prompt|rules)|(?:prompt|text|instructions) above)\b/i,
  },
  {
    name: "role_override",
    weight: 0.5,
    pattern:
      /\b(?:you are now|from now on,? you(?: are| will)?|act as (?:an? )?(?:unrestricted|unfiltered|jailbroken|evil)|pretend (?:to be|you are) (?:an? )?(?:unrestricted|unfiltered|different)|new (?:system )?instructions:)/i,
  },
  {
    name: "jailbreak_persona",
    weight: 0.45,
    pattern: /\b(?:DAN|do anything now|developer mode|jailbreak(?:ed)?|god mode|STAN|DUDE mode)\b/,
  },
  {
    name: "fake_delimiters",
    weight: 0.5,
    pattern:
      /<\|(?:im_start|im_end|system|endoftext)\|>|\[\/?(?:INST|SYS)\]|<<\/?SYS>>|^\s*#{2,}\s*(?:system|new instructions?)\b/im,
  },
  {
    name: "no_restrictions",
    weight: 0.3,
    pattern:
      /\b(?:without|no|ignore|free of|remove) (?:any |all |your )?(?:restrictions|filters|censorship|limitations|safety (?:guidelines|rules)|content polic(?:y|ies))\b/i,
  },
  {
    name: "encoded_payload",
    weight: 0.3,
    pattern: /\b(?:decode|base64|rot13)\b[\s\S]{0,80}[A-Za-z0-9+/]{120,}={0,2}/i,
  },
];

/** The score of a text and the families that fired. */
export interface InjectionScore {
  score: number;
  families: string[];
}

/** Scores `text` against every pattern family. */
export function scoreInjection(text: string): InjectionScore {
  let keep = 1;
  const fired: string[] = [];
  for (const family of families) {
    if (!family.pattern.test(text)) continue;
    keep *= 1 - family.weight;
    fired.push(family.name);
  }
  return { score: Math.round((1 - keep) * 1000) / 1000, families: fired };
}
