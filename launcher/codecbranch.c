/* A pipe file's per-codec branches (codecbranch.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "codecbranch.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (codec_branch_debug);
#define GST_CAT_DEFAULT codec_branch_debug

static void
init_debug (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (codec_branch_debug, "sxcodecbranch", 0,
                             "surveillx-launcher: per-codec branches");
    g_once_init_leave (&done, 1);
  }
}

gchar **
sx_codecs_parse (const gchar *list, GError **error)
{
  g_auto (GStrv) known = g_strsplit (SX_CODECS_DEFAULT, ",", -1);
  g_auto (GStrv) parts = g_strsplit (list ? list : "", ",", -1);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  for (gchar **p = parts; *p; p++) {
    g_autofree gchar *name = g_ascii_strup (g_strstrip (*p), -1);
    if (*name == '\0')
      continue;
    if (!g_strv_contains ((const gchar *const *)known, name)) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "unknown codec '%s' (known: %s)", name, SX_CODECS_DEFAULT);
      g_ptr_array_free (out, TRUE);
      return NULL;
    }
    for (guint i = 0; i < out->len; i++) {
      if (strcmp (out->pdata[i], name) == 0) {
        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     "codec '%s' listed twice", name);
        g_ptr_array_free (out, TRUE);
        return NULL;
      }
    }
    g_ptr_array_add (out, g_steal_pointer (&name));
  }
  if (out->len == 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "no codec given (known: %s)", SX_CODECS_DEFAULT);
    g_ptr_array_free (out, TRUE);
    return NULL;
  }
  g_ptr_array_add (out, NULL);
  return (gchar **)g_ptr_array_free (out, FALSE);
}

/* Whether @element (in a pipe file's bin) is a branch head: it has a
 * source pad and an always sink pad that nothing feeds yet. That pad
 * (ref) in @pad. */
static gboolean
branch_head_pad (GstElement *element, GstPad **pad)
{
  if (element->numsrcpads == 0)
    return FALSE;
  gboolean found = FALSE;
  GST_OBJECT_LOCK (element);
  for (GList *l = element->sinkpads; l && !found; l = l->next) {
    GstPad *p = l->data;
    GstPadTemplate *t = GST_PAD_PAD_TEMPLATE (p);
    if (t && GST_PAD_TEMPLATE_PRESENCE (t) != GST_PAD_ALWAYS)
      continue;
    if (!gst_pad_is_linked (p)) {
      *pad = gst_object_ref (p);
      found = TRUE;
    }
  }
  GST_OBJECT_UNLOCK (element);
  return found;
}

static gboolean
pad_takes (GstPad *pad, const gchar *encoding_name)
{
  /* a query, not the template: a queue in front of the depayloader
   * answers with the depayloader's caps */
  g_autoptr (GstCaps) caps = gst_pad_query_caps (pad, NULL);
  g_autoptr (GstCaps) rtp = gst_caps_new_simple (
      "application/x-rtp", "media", G_TYPE_STRING, "video", "clock-rate",
      G_TYPE_INT, 90000, "encoding-name", G_TYPE_STRING, encoding_name, NULL);
  return caps && gst_caps_can_intersect (caps, rtp);
}

/* The branch heads of @bin and of the plain bins in it (`( ... )` in a pipe
 * file), not inside other bins: webrtcbin or decodebin are single elements
 * to a pipe file. Each as a ref to the element. */
static void
collect_heads (GstBin *bin, GPtrArray *heads)
{
  GstIterator *it = gst_bin_iterate_elements (bin);
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *element = g_value_get_object (&item);
    GstElementFactory *f = gst_element_get_factory (element);
    GstPad *pad = NULL;
    if (GST_IS_BIN (element) && f
        && g_strcmp0 (GST_OBJECT_NAME (f), "bin") == 0)
      collect_heads (GST_BIN (element), heads);
    else if (branch_head_pad (element, &pad)) {
      gst_object_unref (pad);
      g_ptr_array_add (heads, gst_object_ref (element));
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
}

static gboolean
head_takes (GstElement *head, const gchar *encoding_name)
{
  g_autoptr (GstPad) pad = NULL;
  return branch_head_pad (head, &pad) && pad_takes (pad, encoding_name);
}

gboolean
sx_codec_branch_decodes (GstBin *pipeline, const gchar *encoding_name)
{
  g_autoptr (GPtrArray) heads
      = g_ptr_array_new_with_free_func (gst_object_unref);
  collect_heads (pipeline, heads);
  for (guint i = 0; i < heads->len; i++)
    if (head_takes (heads->pdata[i], encoding_name))
      return TRUE;
  return FALSE;
}

gchar **
sx_codec_branch_decodable (GstBin *pipeline, const gchar *const *preference)
{
  GPtrArray *out = g_ptr_array_new ();
  for (const gchar *const *c = preference; c && *c; c++)
    if (sx_codec_branch_decodes (pipeline, *c))
      g_ptr_array_add (out, g_strdup (*c));
  g_ptr_array_add (out, NULL);
  return (gchar **)g_ptr_array_free (out, FALSE);
}

/* The single source pad of @element (ref), or NULL when it has none or
 * several (a branch that fans out is not one this file removes). */
static GstPad *
only_src_pad (GstElement *element)
{
  GstPad *pad = NULL;
  GST_OBJECT_LOCK (element);
  if (element->numsrcpads == 1)
    pad = gst_object_ref (element->srcpads->data);
  GST_OBJECT_UNLOCK (element);
  return pad;
}

static gboolean
is_meeting_point (GstPad *sinkpad, GstElement *element)
{
  GstPadTemplate *t = GST_PAD_PAD_TEMPLATE (sinkpad);
  return element->numsinkpads > 1
         || (t && GST_PAD_TEMPLATE_PRESENCE (t) == GST_PAD_REQUEST);
}

/* Removes the branch starting at @head; FALSE (nothing removed) when it
 * fans out or leaves its bin before meeting the others. */
static gboolean
prune_branch (GstElement *head)
{
  g_autoptr (GPtrArray) chain
      = g_ptr_array_new_with_free_func (gst_object_unref);
  GstElement *meet = NULL;
  GstPad *meet_pad = NULL;
  GstElement *current = gst_object_ref (head);
  for (;;) {
    g_ptr_array_add (chain, current);
    g_autoptr (GstPad) src = only_src_pad (current);
    if (src == NULL) {
      if (current->numsrcpads > 1) {
        GST_WARNING ("branch at %s fans out at %s: kept",
                     GST_ELEMENT_NAME (head), GST_ELEMENT_NAME (current));
        return FALSE;
      }
      break; /* ends in a sink of its own */
    }
    GstPad *peer = gst_pad_get_peer (src);
    if (peer == NULL)
      break;
    GstElement *next = gst_pad_get_parent_element (peer);
    if (next == NULL
        || GST_OBJECT_PARENT (next) != GST_OBJECT_PARENT (current)) {
      GST_WARNING ("branch at %s leaves its bin after %s: kept",
                   GST_ELEMENT_NAME (head), GST_ELEMENT_NAME (current));
      g_clear_object (&next);
      gst_object_unref (peer);
      return FALSE;
    }
    if (is_meeting_point (peer, next)) {
      meet = next;
      meet_pad = peer;
      break;
    }
    gst_object_unref (peer);
    current = next;
  }

  if (meet) {
    GstPad *src = only_src_pad (chain->pdata[chain->len - 1]);
    gst_pad_unlink (src, meet_pad);
    gst_object_unref (src);
    GstPadTemplate *t = GST_PAD_PAD_TEMPLATE (meet_pad);
    if (t && GST_PAD_TEMPLATE_PRESENCE (t) == GST_PAD_REQUEST)
      gst_element_release_request_pad (meet, meet_pad);
    gst_object_unref (meet_pad);
    gst_object_unref (meet);
  }
  for (guint i = 0; i < chain->len; i++) {
    GstElement *e = chain->pdata[i];
    gst_element_set_locked_state (e, TRUE);
    gst_element_set_state (e, GST_STATE_NULL);
    GstObject *parent = gst_object_get_parent (GST_OBJECT (e));
    if (parent) {
      gst_bin_remove (GST_BIN (parent), e);
      gst_object_unref (parent);
    }
  }
  return TRUE;
}

guint
sx_codec_branch_prune (GstBin *pipeline, const gchar *encoding_name,
                       GPtrArray *removed)
{
  init_debug ();
  g_autoptr (GPtrArray) heads
      = g_ptr_array_new_with_free_func (gst_object_unref);
  collect_heads (pipeline, heads);
  guint pruned = 0;
  for (guint i = 0; i < heads->len; i++) {
    GstElement *head = heads->pdata[i];
    if (head_takes (head, encoding_name))
      continue;
    if (prune_branch (head)) {
      GST_DEBUG_OBJECT (pipeline, "removed the branch at %s (no %s)",
                        GST_ELEMENT_NAME (head), encoding_name);
      g_ptr_array_add (removed, gst_object_ref (head));
      pruned++;
    }
  }
  return pruned;
}
