-- The providers table of cc-switch's database (~/.cc-switch/cc-switch.db), as cc-switch creates it.
CREATE TABLE IF NOT EXISTS providers (
    id TEXT NOT NULL,
    app_type TEXT NOT NULL,
    name TEXT NOT NULL,
    settings_config TEXT NOT NULL,
    website_url TEXT,
    category TEXT,
    created_at INTEGER,
    sort_index INTEGER,
    notes TEXT,
    icon TEXT,
    icon_color TEXT,
    meta TEXT NOT NULL DEFAULT '{}',
    is_current BOOLEAN NOT NULL DEFAULT 0,
    in_failover_queue BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (id, app_type)
);
INSERT INTO providers (id, app_type, name, settings_config, category, sort_index, is_current) VALUES
 ('claude-official', 'claude', 'Claude Official', '{"env":{}}', 'official', 0, 0),
 ('b7e2', 'claude', 'Qwen Coder', '{"env":{"ANTHROPIC_BASE_URL":"https://dashscope.aliyuncs.com/api/v2/apps/claude-code-proxy","ANTHROPIC_AUTH_TOKEN":"sk-qwen-sample-0010","ANTHROPIC_MODEL":"qwen3-coder-plus"}}', 'cn_official', 1, 1),
 ('c9f1', 'claude', 'PackyCode', '{"env":{"ANTHROPIC_BASE_URL":"https://api.packycode.com","ANTHROPIC_AUTH_TOKEN":"sk-packy-sample-0011"}}', 'third_party', 2, 0),
 ('d001', 'codex', 'OpenAI Official', '{"auth":{},"config":""}', 'official', 0, 1);
