// The configuration messages of Wazuh 4.14.7, worded exactly as its daemons log them, so that an
// admin who knows Wazuh's log (or greps for a number) recognizes them. Texts from
// src/error_messages/error_messages.h, warning_messages.h, and the literal mwarn() strings of
// config/syscheck-config.c, client-config.c, buffer-config.c and client-agent/config.c, each cited
// where it is defined. Only strings here: what each one leads to is decided by the readers.

/** XML_INVELEM (error_messages.h:89). */
export const invalidElement = (element: string) => `(1230): Invalid element in the configuration: '${element}'.`;
/** XML_ELEMNULL (error_messages.h:90): syscheck-config.c:2155 logs it for an unknown <whodata> child. */
export const invalidNullElement = () => '(1231): Invalid NULL element in the configuration.';
/** XML_VALUEERR (error_messages.h:94). */
export const invalidValue = (element: string, value: string) => `(1235): Invalid value for element '${element}': ${value}.`;
/** INVALID_TIME (error_messages.h:99), from OS_IsValidTime (shared/validate_op.c:671-764). */
export const invalidTime = (text: string) => `(1240): Invalid time format: '${text}'.`;
/** INVALID_DAY (error_messages.h:100). */
export const invalidDay = (text: string) => `(1241): Invalid day format: '${text}'.`;
/** CONFIG_ERROR (error_messages.h:62): ReadConfig's verdict on a file one of whose sections failed. */
export const configurationError = (file: string) => `(1202): Configuration error at '${file}'.`;
/** RCONFIG_ERROR (error_messages.h:67) as syscheckd/src/main.c:135 logs it before running with FIM disabled. */
export const syscheckCorrupted = (file: string) => `(1207): syscheck remote configuration in '${file}' is corrupted.`;
/** FIM_DIRECTORY_NOPROVIDED (error_messages.h:435), logged at INFO by syscheckd/src/main.c:139. */
export const noDirectoryProvided = () => '(6678): No directory provided for syscheck to monitor.';
/** FIM_INVALID_ATTRIBUTE (error_messages.h:436). */
export const invalidAttribute = (attribute: string, element: string) => `(6679): Invalid attribute '${attribute}' for '${element}' option.`;
/** FIM_UNKNOWN_ATTRIBUTE (error_messages.h:457), logged with mwarn by read_attr (syscheck-config.c:1049). */
export const unknownDirectoryAttribute = (attribute: string) => `(6701): Unknown attribute '${attribute}' for directory option.`;
/** FIM_ERROR_EXPAND_ENV_VAR (error_messages.h:470), Linux form. */
export const cannotExpandVariable = (name: string) => `(6718): Could not expand the environment variable ${name}.`;
/** FIM_INVALID_OPTION_SKIP (warning_messages.h:43). */
export const invalidOptionSkip = (value: string, attribute: string, paths: string) =>
  `(6924): Invalid option '${value}' for attribute '${attribute}'. The paths '${paths}' will not be monitored.`;
/** FIM_WARN_MAX_DIR_REACH (warning_messages.h:49). */
export const maxDirectoriesReached = (max: number, path: string) =>
  `(6930): Maximum number of directories to be monitored in the same tag reached (${max}) Excess are discarded: '${path}'`;
/** read_attr (syscheck-config.c:997). */
export const recursionLevelNegative = (level: number, fallback: number) => `Invalid recursion level value: ${level}. Setting default (${fallback}).`;
/** read_attr (syscheck-config.c:1000): it says the limit, but sets the default (syscheck-config.c:1001). */
export const recursionLevelOverLimit = (level: number, limit: number) => `Recursion level '${level}' exceeding limit. Setting ${limit}.`;
/** parse_synchronization (syscheck-config.c:1295). */
export const maxIntervalBelowInterval = (interval: number) => `'max_interval' cannot be less than 'interval'. New 'max_interval' value: '${interval}'`;
/** ClientConf (client-agent/config.c:86). */
export const bufferThroughputTooLow = (minEps: number) => `Client buffer throughput too low: set to ${minEps} eps`;
/** Read_ClientBuffer (buffer-config.c:65). */
export const lengthDeprecated = () => 'The <length> tag is deprecated for version newer than 2.1.1, please use <queue_size> instead.';
/** Read_Client (client-config.c:61). */
export const localIpNoEffect = () => 'The <local_ip> tag has no functionality, so it will have no effect.';
/** Read_Client (client-config.c:65, 74, 84, 176): the legacy <client> options. */
export const clientTagDeprecated = (tag: string, replacement: string) => `The <${tag}> tag is deprecated, please use ${replacement} instead.`;
