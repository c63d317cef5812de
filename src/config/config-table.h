/* config-table.h: the table of settings shared by the parser (config.c)
 * and the writer (config-file.c). Internal to src/config/.
 *
 * One row per key: where it lives in struct config, its type and range,
 * and the text that documents it in the file `redoubt init` writes, so the
 * documentation and the parser can never disagree about which keys exist. */
#ifndef RD_CONFIG_TABLE_H
#define RD_CONFIG_TABLE_H
#include <stddef.h>
#include <stdint.h>
#include "config/config.h"

enum config_type {
	CONFIG_DNSNAME,   /* char[]: dns_name_valid() */
	CONFIG_BOOL,      /* int: on | off */
	CONFIG_LOGLEVEL,  /* enum log_level: debug | info | warn | error */
	CONFIG_USER,      /* char[]: Unix user name, not root */
	CONFIG_LISTEN,    /* struct config_listen */
	CONFIG_PATH,      /* char[]: no "..", no control characters */
	CONFIG_U32,       /* uint32_t in [min, max] */
	CONFIG_U64,       /* uint64_t in [min, max] */
};

struct config_section {
	const char *name;
	const char *doc;      /* lines separated by '\n', no "# " prefix */
};

struct config_setting {
	unsigned section;     /* index into config_sections */
	const char *key;
	enum config_type type;
	size_t offset;        /* into struct config */
	size_t size;          /* of the field, for strings */
	uint64_t min, max;    /* integers only */
	const char *doc;      /* lines separated by '\n', no "# " prefix */
};

#define CONFIG_SECTION_COUNT 5u
#define CONFIG_SETTING_COUNT 19u

extern const struct config_section config_sections[CONFIG_SECTION_COUNT];
extern const struct config_setting config_settings[CONFIG_SETTING_COUNT];

/* The log level names, indexed by enum log_level. */
const char *config_log_level_name(enum log_level lvl);

#endif
