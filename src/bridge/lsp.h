/*
 * lsp.h: the LSP face of aish-bridge (SPEC section 10): what its files
 * share.  lsp-session.c answers an LSP initialize and keeps what the
 * client can do; lsp-docs.c keeps the open documents and turns positions
 * into byte offsets; lsp-actions.c keeps the actions and answers
 * textDocument/codeAction; lsp-run.c runs one with
 * workspace/executeCommand through the core.
 *
 * Documents are kept as the client's UTF-8 bytes.  Positions count UTF-16
 * code units (LSP's default) unless the client offered "utf-8" in
 * general.positionEncodings: then bytes.
 */
#ifndef AISH_BRIDGE_LSP_H
#define AISH_BRIDGE_LSP_H

#include <stddef.h>

#include "bridge.h"

/* LSP's own error code for a request that was valid but failed. */
#define LSP_REQUEST_FAILED	-32803

/* window/showMessage types. */
#define LSP_MSG_ERROR		1
#define LSP_MSG_WARNING		2
#define LSP_MSG_INFO		3

/* The command names of executeCommand, one per kind of action. */
#define LSP_CMD_REWRITE		"aish.rewrite"
#define LSP_CMD_ASK		"aish.ask"

/* What the client said it can do (its initialize capabilities). */
struct lsp_client {
	int	work_done_progress;	/* window.workDoneProgress */
	int	apply_edit;		/* workspace.applyEdit */
	int	document_changes;	/* workspace.workspaceEdit.documentChanges */
	int	show_document;		/* window.showDocument.support */
	int	code_action_literals;	/* CodeAction objects, not Commands */
	int	utf8;			/* positions count bytes */
};

/* What an action does with the AI's answer. */
enum lsp_kind {
	LSP_REWRITE,		/* replaces the range */
	LSP_ASK			/* opens the answer */
};

/* An open document. */
struct lsp_doc {
	struct lsp_doc	*next;
	char		*uri;
	long		 version;
	char		*text;		/* UTF-8, NUL-terminated */
	size_t		 len;
};

extern struct lsp_client	lsp_client;
extern const struct face	face_lsp;

/* lsp-session.c */
int		 lsp_initialize(struct req *r, const cJSON *params);
cJSON		*lsp_initialize_result(void);
void		 lsp_show_message(int type, const char *message);

/* lsp-docs.c */
struct lsp_doc	*lsp_doc_find(const char *uri);
int		 lsp_range_offsets(const struct lsp_doc *d, const cJSON *range,
		    size_t *start, size_t *end);
cJSON		*lsp_line_range(const struct lsp_doc *d, long line);
void		 lsp_docs_free(void);

/* lsp-actions.c */
int		 lsp_actions_load(const char *path, char *why, size_t whylen);
int		 lsp_actions_set(const cJSON *list, char *why, size_t whylen);
int		 lsp_action_get(size_t i, const char **title,
		    const char **pipeline);
int		 lsp_pipeline_ok(const char *pipeline, enum lsp_kind kind,
		    char *why, size_t whylen);

/* method tables */
extern const struct method methods_lsp_session[];
extern const struct method methods_lsp_docs[];
extern const struct method methods_lsp_actions[];
extern const struct method methods_lsp_run[];

#endif
